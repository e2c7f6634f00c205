import { performance } from 'node:perf_hooks';
import type { Clock } from './clock.js';

/** Cancels a scheduled task; harmless once it ran. */
export type Cancel = () => void;

/**
 * Runs tasks when the injected clock reaches a given time. Deadlines that follow business time
 * (token and session expiry) go through here, so that tests move a ManualClock (which is a
 * Scheduler too) instead of waiting.
 */
export interface Scheduler {
  /** Runs `task` once the clock reads `time` (milliseconds since the epoch) or later. */
  at(time: number, task: () => void): Cancel;
}

/** setTimeout's longest delay; a later deadline is reached in hops. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** The production scheduler: one unref'd timer per pending task, measured against `clock`. */
export class TimerScheduler implements Scheduler {
  constructor(private readonly clock: Clock) {}

  at(time: number, task: () => void): Cancel {
    let timer: NodeJS.Timeout;
    // A timer may fire a millisecond early by the clock's reading: then it waits the rest.
    const fire = () => (this.clock.now() >= time ? task() : arm());
    const arm = () => {
      const delay = time - this.clock.now();
      timer = setTimeout(delay > MAX_TIMER_DELAY_MS ? arm : fire, Math.min(MAX_TIMER_DELAY_MS, Math.max(0, delay)));
      // Timers never keep the process alive by themselves: open sockets do, if anything.
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  }
}

/**
 * A time that is both read and scheduled on: a ManualClock, or `realTime()`. Liveness (heartbeats,
 * peers gone silent) runs on real elapsed time, not on the business clock that tests jump by hours;
 * it is injected all the same, so that a test moves it one beat at a time instead of racing it.
 */
export type Timeline = Clock & Scheduler;

/** Real elapsed time: monotonic (a step of the system clock neither fires nor postpones anything), on unref'd timers. */
export function realTime(): Timeline {
  const clock: Clock = { now: () => performance.now() };
  const scheduler = new TimerScheduler(clock);
  return { now: () => clock.now(), at: (time, task) => scheduler.at(time, task) };
}

/**
 * Runs `task` every `intervalMs` of `timeline`, each run measured from the one before: a run that
 * came late (the process was busy) delays the next instead of bunching them up. A failing run
 * does not end the schedule.
 */
export function every(timeline: Timeline, intervalMs: number, task: () => void): Cancel {
  let stopped = false;
  let cancel: Cancel;
  const arm = () => (cancel = timeline.at(timeline.now() + intervalMs, run));
  const run = () => {
    if (stopped) return;
    arm();
    task();
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}
