import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EphemeralStore } from '../../src/cluster/ephemeral-store.js';
import { MemoryEphemeralStore } from '../../src/cluster/memory-ephemeral-store.js';
import { RedisEphemeralStore } from '../../src/cluster/redis-ephemeral-store.js';
import { ManualClock } from '../../src/lib/clock.js';
import { redisUrl } from '../helpers/backends.js';

interface Adapter {
  name: string;
  open(): EphemeralStore;
}

const clock = new ManualClock();
const adapters: Adapter[] = [{ name: 'memory', open: () => new MemoryEphemeralStore(clock) }];
const url = redisUrl;
if (url !== undefined) {
  // Each run writes under a prefix of its own, so parallel runs share the server without colliding.
  const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`;
  adapters.push({
    name: 'redis',
    open: () => new RedisEphemeralStore(new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 }), prefix),
  });
}

// One conformance suite for every adapter: the cluster and a single node must behave alike.
describe.each(adapters)('EphemeralStore conformance on $name', (adapter) => {
  let store: EphemeralStore;
  beforeAll(() => {
    store = adapter.open();
  });
  afterAll(() => store.close());

  it('stores, reads and deletes values', async () => {
    expect(await store.get('a')).toBeUndefined();
    await store.setEx('a', 'one', 60_000);
    expect(await store.get('a')).toBe('one');
    await store.setEx('a', 'two', 60_000);
    expect(await store.get('a')).toBe('two');
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
  });

  it('hands a value to exactly one of several concurrent takers', async () => {
    await store.setEx('once', 'token', 60_000);
    const taken = await Promise.all(Array.from({ length: 20 }, () => store.take('once')));
    expect(taken.filter((value) => value === 'token')).toHaveLength(1);
    expect(await store.get('once')).toBeUndefined();
  });

  it('counts atomically, keeping the expiry set by the first increment', async () => {
    const counts = await Promise.all(Array.from({ length: 25 }, () => store.incrWithTtl('counter', 60_000)));
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, index) => index + 1));
    const remaining = await store.ttl('counter');
    expect(remaining).toBeGreaterThan(50_000);
    expect(remaining).toBeLessThanOrEqual(60_000);
    await store.incrWithTtl('counter', 1_000_000);
    expect(await store.ttl('counter')).toBeLessThanOrEqual(60_000);
    expect(await store.ttl('missing')).toBeUndefined();
  });
});

// Redis expires keys by its own clock, which a test cannot move; the suite above checks that it
// reports the same remaining lifetimes. Expiry itself is checked where time can be moved.
describe('MemoryEphemeralStore expiry', () => {
  it('forgets values and counters when they expire', async () => {
    const store = new MemoryEphemeralStore(clock);
    await store.setEx('short', 'x', 1000);
    await store.incrWithTtl('short-counter', 1000);
    clock.advance(999);
    expect(await store.get('short')).toBe('x');
    clock.advance(1);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.take('short')).toBeUndefined();
    expect(await store.incrWithTtl('short-counter', 1000)).toBe(1);
  });
});
