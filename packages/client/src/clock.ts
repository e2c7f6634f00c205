/** Cancels a scheduled task; harmless once it ran. */
export type Cancel = () => void;

/**
 * The client's time and timers, injected so that tests move time instead of sleeping. The
 * server's test `ManualClock` has exactly this shape, so a test can hand the server's clock to
 * the client and move both at once.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `task` once `now()` reads `time` or later. */
  at(time: number, task: () => void): Cancel;
}

/** setTimeout's longest delay; a later deadline is reached in hops. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * The real clock: `Date.now()` and `setTimeout`. In Node.js its timers do not keep the process
 * alive by themselves.
 *
 * @example
 * ```ts
 * const cancel = systemClock.at(systemClock.now() + 1000, () => console.log('a second later'));
 * cancel();
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  at(time, task) {
    let timer: ReturnType<typeof setTimeout>;
    const arm = (): void => {
      const delay = time - Date.now();
      timer = setTimeout(() => (Date.now() >= time ? task() : arm()), Math.min(MAX_DELAY_MS, Math.max(0, delay)));
      (timer as { unref?: () => void }).unref?.();
    };
    arm();
    return () => clearTimeout(timer);
  },
};
