import { afterEach, describe, expect, it } from 'vitest';
import { RevocationFeed, type RevocationEvent } from '../../src/auth/sessions/revocations.js';
import { SessionCache, type CachedSession } from '../../src/auth/sessions/session-cache.js';
import type { ClusterBus } from '../../src/cluster/index.js';
import { MemoryBus } from '../../src/cluster/memory-bus.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/logger.js';
import type { SessionRecord, UserRecord } from '../../src/store/repositories/index.js';
import { redisUrl } from '../helpers/backends.js';
import { EVENT_TIMEOUT_MS, withTimeout } from '../helpers/realtime.js';
import { linkIs, redisNodes, subscribed, type RedisNode } from '../helpers/redis-nodes.js';

const silent = createLogger('silent');
const failOnHandlerError = (error: unknown) => {
  throw error;
};
const delivered = () => new Promise((resolve) => setImmediate(resolve));

const user = { id: 'u1', appId: 'app1' } as UserRecord;

/** A node's feed, with a cache holding sessions s1 and s2 of u1 and s3 of u2. */
function node(bus: ClusterBus) {
  const clock = new ManualClock();
  const cache = new SessionCache(clock, 60_000);
  const entry = (sessionId: string, userId: string): CachedSession => ({
    session: { id: sessionId, userId } as SessionRecord,
    user: { id: userId } as UserRecord,
    loadedAt: clock.now(),
  });
  for (const [sessionId, userId] of [
    ['s1', 'u1'],
    ['s2', 'u1'],
    ['s3', 'u2'],
  ] as const)
    cache.set(entry(sessionId, userId), cache.generation);
  const feed = new RevocationFeed(bus, cache, silent);
  const cached = () => ['s1', 's2', 's3'].filter((id) => cache.get(id, clock.now()) !== undefined);
  return { feed, cache, cached };
}

describe('RevocationFeed on one node', () => {
  it('tells this node at once: it forgets the sessions and its listeners hear the event', async () => {
    const { feed, cached } = node(new MemoryBus('node-a', failOnHandlerError));
    const here: RevocationEvent[] = [];
    const inCluster: RevocationEvent[] = [];
    feed.onRevoked((event) => void here.push(event));
    const stop = feed.onRevokedInCluster((event) => void inCluster.push(event));
    await feed.announce(user, ['s1'], 'logout');
    const event = { appId: 'app1', userId: 'u1', sessionIds: ['s1'], reason: 'logout' };
    expect(here).toEqual([event]);
    expect(inCluster).toEqual([event]);
    expect(cached()).toEqual(['s2', 's3']);
    stop();
    await feed.announce(user, ['s2'], 'logout');
    expect(inCluster).toHaveLength(1);
    expect(here).toHaveLength(2);
  });

  it('runs every listener, awaited, and then rejects with the first failure', async () => {
    const { feed } = node(new MemoryBus('node-a', failOnHandlerError));
    const heard: string[] = [];
    feed.onRevoked(() => Promise.reject(new Error('ending anonymous users failed')));
    feed.onRevoked(async () => {
      await delivered();
      heard.push('awaited');
    });
    feed.onRevokedInCluster(() => void heard.push('sockets closed'));
    await expect(feed.announce(user, ['s1'], 'revoked')).rejects.toThrow('ending anonymous users failed');
    expect(heard.sort()).toEqual(['awaited', 'sockets closed']);
  });

  it('forgets a changed user here', async () => {
    const { feed, cached } = node(new MemoryBus('node-a', failOnHandlerError));
    await feed.userChanged('u1');
    expect(cached()).toEqual(['s3']);
  });

  it("does not hear its own node's messages again (two feeds on one bus are one node)", async () => {
    const bus = new MemoryBus('node-a', failOnHandlerError);
    const a = node(bus);
    const b = node(bus);
    const atB: RevocationEvent[] = [];
    b.feed.onRevokedInCluster((event) => void atB.push(event));
    await a.feed.announce(user, ['s1'], 'logout');
    await a.feed.userChanged('u2');
    await delivered();
    expect(atB).toEqual([]);
    expect(b.cached()).toEqual(['s1', 's2', 's3']);
  });
});

describe.skipIf(redisUrl === undefined)('RevocationFeed between nodes on Redis', () => {
  const opened: RedisNode[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((redis) => redis.close()));
  });

  async function twoNodes() {
    const redis = await redisNodes(redisUrl!, 'node-a', 'node-b');
    opened.push(...redis);
    const [a, b] = [node(redis[0]!.bus), node(redis[1]!.bus)];
    await subscribed(redis);
    return { a, b, redis };
  }

  it("brings every node's revocations to each node's cluster listeners; the others' onRevoked stay silent", async () => {
    const { a, b } = await twoNodes();
    const heardAtB: RevocationEvent[] = [];
    const revokedAtB: RevocationEvent[] = [];
    b.feed.onRevoked((event) => void revokedAtB.push(event));
    const arrived = new Promise<void>((resolve) =>
      b.feed.onRevokedInCluster((event) => {
        heardAtB.push(event);
        resolve();
      }),
    );
    await a.feed.announce(user, ['s1', 's2'], 'password_changed');
    await withTimeout(arrived, EVENT_TIMEOUT_MS, 'the revocation at node-b');
    expect(heardAtB).toEqual([{ appId: 'app1', userId: 'u1', sessionIds: ['s1', 's2'], reason: 'password_changed' }]);
    expect(revokedAtB).toEqual([]);
    expect(b.cached()).toEqual(['s3']);
  });

  it('has a changed user forgotten on the other nodes', async () => {
    const { a, b } = await twoNodes();
    await a.feed.userChanged('u2');
    // Redis hands a message to its subscribers as it answers the PUBLISH; reading it takes a turn or two.
    await withTimeout(
      (async () => {
        while (b.cached().includes('s3')) await delivered();
      })(),
      EVENT_TIMEOUT_MS,
      'u2 forgotten at node-b',
    );
    expect(b.cached()).toEqual(['s1', 's2']);
  });

  it('forgets every cached session when the link drops: messages of the gap are lost', async () => {
    const { b, redis } = await twoNodes();
    redis[1]!.subscriber.disconnect();
    await linkIs(redis[1]!.bus, false);
    expect(b.cached()).toEqual([]);
    expect(b.feed.hearsEveryChange).toBe(false);
  });
});
