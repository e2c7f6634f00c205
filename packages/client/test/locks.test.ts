import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { broadcastChannelLock, realmLock, webLocksLock } from '../src/index.js';

describe('locks', () => {
  it('realmLock runs the tasks of one name one at a time, in order, past failures', async () => {
    const lock = realmLock();
    const order: string[] = [];
    let inside = 0;
    const task =
      (name: string, fail = false) =>
      async () => {
        inside += 1;
        expect(inside).toBe(1);
        await Promise.resolve();
        order.push(name);
        inside -= 1;
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      lock.run('a', task('1')),
      lock.run('a', task('2', true)),
      lock.run('a', task('3')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(order).toEqual(['1', '2', '3']);
  });

  it('realmLock lets different names run side by side', async () => {
    const lock = realmLock();
    let release!: () => void;
    const held = lock.run('x', () => new Promise<void>((resolve) => (release = resolve)));
    await expect(lock.run('y', async () => 'free')).resolves.toBe('free');
    release();
    await held;
  });

  it('webLocksLock is absent where navigator.locks is (Node.js 20)', () => {
    if ((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks === undefined)
      expect(webLocksLock()).toBeUndefined();
  });

  it('broadcastChannelLock excludes across threads (separate realms, as tabs are)', async () => {
    expect(broadcastChannelLock()).toBeDefined();
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const workerFile = fileURLToPath(new URL('./fixtures/lock-worker-bootstrap.mjs', import.meta.url));
    const workers = Array.from({ length: 3 }, () => new Worker(workerFile, { workerData: { shared, rounds: 3 } }));
    const reports = await Promise.all(
      workers.map(
        (worker) =>
          new Promise<{ overlaps: number; rounds: number }>((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
          }),
      ),
    );
    await Promise.all(workers.map((worker) => worker.terminate()));
    // shared[1] counts the critical sections entered; shared[0] how many were inside at once.
    expect(reports.map((report) => report.overlaps)).toEqual([0, 0, 0]);
    expect(Atomics.load(shared, 1)).toBe(9);
  });
});
