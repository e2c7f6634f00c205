/** The time, injected so that tests move it instead of sleeping. Milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
}

export const toIso = (milliseconds: number): string => new Date(milliseconds).toISOString();
export const toIsoOrNull = (milliseconds: number | null): string | null => (milliseconds === null ? null : toIso(milliseconds));
