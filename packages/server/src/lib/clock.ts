import type { Cancel, Scheduler } from './scheduler.js';

/** The time, injected so that tests move it instead of sleeping. Milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

interface ManualTask {
  time: number;
  task: () => void;
}

/**
 * A clock that only moves when told to. It is also a Scheduler: `advance` runs the tasks that
 * come due, in time order, with the clock reading each task's time while it runs.
 */
export class ManualClock implements Clock, Scheduler {
  private readonly tasks = new Set<ManualTask>();

  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  at(time: number, task: () => void): Cancel {
    const entry = { time, task };
    this.tasks.add(entry);
    // A deadline already reached runs soon, as a real timer of delay 0 would, not at the next advance.
    if (time <= this.current) setImmediate(() => this.runDue());
    return () => this.tasks.delete(entry);
  }

  advance(milliseconds: number): void {
    const target = this.current + milliseconds;
    this.runDue(target);
    this.current = target;
  }

  private runDue(until = this.current): void {
    const errors: unknown[] = [];
    for (let next = this.nextDue(until); next !== undefined; next = this.nextDue(until)) {
      this.tasks.delete(next);
      this.current = Math.max(this.current, next.time);
      try {
        next.task();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  private nextDue(until: number): ManualTask | undefined {
    let earliest: ManualTask | undefined;
    for (const entry of this.tasks)
      if (entry.time <= until && (earliest === undefined || entry.time < earliest.time)) earliest = entry;
    return earliest;
  }
}

/** Recent conversions: the same timestamps (a user's creation, a session's expiry) are presented on every request. */
const isoStrings = new Map<number, string>();
const MAX_ISO_STRINGS = 4096;

export const toIso = (milliseconds: number): string => {
  let iso = isoStrings.get(milliseconds);
  if (iso === undefined) {
    if (isoStrings.size >= MAX_ISO_STRINGS) isoStrings.clear();
    iso = new Date(milliseconds).toISOString();
    isoStrings.set(milliseconds, iso);
  }
  return iso;
};
export const toIsoOrNull = (milliseconds: number | null): string | null =>
  milliseconds === null ? null : toIso(milliseconds);
