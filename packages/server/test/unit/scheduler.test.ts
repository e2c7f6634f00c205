import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/lib/clock.js';
import { every, realTime, TimerScheduler } from '../../src/lib/scheduler.js';

describe('ManualClock as a scheduler', () => {
  it('runs due tasks in time order, reading each task its own time, and skips cancelled ones', () => {
    const clock = new ManualClock(1000);
    const ran: [string, number][] = [];
    clock.at(3000, () => ran.push(['c', clock.now()]));
    clock.at(2000, () => ran.push(['b', clock.now()]));
    const cancel = clock.at(2500, () => ran.push(['cancelled', clock.now()]));
    clock.at(9000, () => ran.push(['later', clock.now()]));
    cancel();
    clock.advance(2500);
    expect(ran).toEqual([
      ['b', 2000],
      ['c', 3000],
    ]);
    expect(clock.now()).toBe(3500);
  });

  it('runs a task scheduled by a task when it comes due within the same advance', () => {
    const clock = new ManualClock(0);
    const ran: number[] = [];
    clock.at(10, () => clock.at(20, () => ran.push(clock.now())));
    clock.advance(30);
    expect(ran).toEqual([20]);
  });

  it('runs a task whose time has already come without waiting for an advance', async () => {
    const clock = new ManualClock(0);
    await new Promise<void>((resolve) => clock.at(0, resolve));
  });
});

describe('TimerScheduler', () => {
  it('runs a past deadline at once and never a cancelled one', async () => {
    const scheduler = new TimerScheduler(systemClock);
    let cancelledRan = false;
    scheduler.at(Date.now() + 5, () => (cancelledRan = true))();
    await new Promise<void>((resolve) => scheduler.at(Date.now() - 1000, resolve));
    await new Promise<void>((resolve) => scheduler.at(Date.now() + 10, resolve));
    expect(cancelledRan).toBe(false);
  });

  it("accepts deadlines beyond setTimeout's 24.8-day limit", () => {
    const scheduler = new TimerScheduler(systemClock);
    let ran = false;
    const cancel = scheduler.at(Date.now() + 400 * 24 * 3_600_000, () => (ran = true));
    cancel();
    expect(ran).toBe(false);
  });
});

describe('every (issue 12: heartbeats a test moves one at a time)', () => {
  it('runs a task every interval of the timeline until cancelled, past a failing run', () => {
    const time = new ManualClock(0);
    const runs: number[] = [];
    const cancel = every(time, 100, () => {
      runs.push(time.now());
      if (runs.length === 2) throw new Error('a failing run');
    });
    time.advance(99);
    expect(runs).toEqual([]);
    expect(() => time.advance(201)).toThrow('a failing run');
    time.advance(100);
    expect(runs).toEqual([100, 200, 300, 400]);
    cancel();
    time.advance(1000);
    expect(runs).toHaveLength(4);
  });

  it('stops when cancelled from inside a run', () => {
    const time = new ManualClock(0);
    let runs = 0;
    const cancel = every(time, 10, () => {
      runs += 1;
      if (runs === 3) cancel();
    });
    time.advance(1000);
    expect(runs).toBe(3);
  });

  it('runs on real elapsed time by default', async () => {
    const time = realTime();
    const started = time.now();
    await new Promise<void>((resolve) => {
      const cancel = every(time, 5, () => {
        cancel();
        resolve();
      });
    });
    // Never early; no upper bound, which a busy machine stretches.
    expect(time.now() - started).toBeGreaterThanOrEqual(5);
  });
});
