import { performance } from 'node:perf_hooks';

/**
 * Elapsed time as the revocation feed reads it and schedules on: reconnection backoff, the
 * 45 s silence that marks a dead stream, the outage grace period, the sweep of expired
 * revocations. Injected so that tests move a clock instead of waiting; Tessera's test
 * `ManualClock` is one.
 *
 * @example
 * ```ts
 * const timeline: Timeline = {
 *   now: () => performance.now(),
 *   at: (time, task) => {
 *     const timer = setTimeout(task, Math.max(0, time - performance.now()));
 *     return () => clearTimeout(timer);
 *   },
 * };
 * createVerifier({ url, app: 'acme/chat', secretKey, feed: { timeline } });
 * ```
 */
export interface Timeline {
  /**
   * The current time in milliseconds (any origin: only differences are used).
   *
   * @example
   * ```ts
   * const started = timeline.now();
   * ```
   */
  now(): number;
  /**
   * Runs `task` once `now()` reads `time` or later; returns the call that cancels it.
   *
   * @example
   * ```ts
   * const cancel = timeline.at(timeline.now() + 45_000, () => console.log('silent for 45 s'));
   * ```
   */
  at(time: number, task: () => void): () => void;
}

/** setTimeout's longest delay; a later deadline is reached in hops. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** Monotonic real time on unref'd timers: the feed's timers never keep a process alive. */
export function realTimeline(): Timeline {
  const now = () => performance.now();
  return {
    now,
    at(time, task) {
      let timer: NodeJS.Timeout;
      const arm = () => {
        const delay = time - now();
        timer = setTimeout(() => (now() >= time ? task() : arm()), Math.min(MAX_TIMER_DELAY_MS, Math.max(0, delay)));
        timer.unref();
      };
      arm();
      return () => clearTimeout(timer);
    },
  };
}
