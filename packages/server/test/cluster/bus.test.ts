import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ClusterBus } from '../../src/cluster/bus.js';
import { MemoryBus } from '../../src/cluster/memory-bus.js';
import { RedisBus } from '../../src/cluster/redis-bus.js';
import { redisUrl } from '../helpers/backends.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { EVENT_TIMEOUT_MS, withTimeout } from '../helpers/realtime.js';
import { linkIs } from '../helpers/redis-nodes.js';

const failOnHandlerError = (error: unknown) => {
  throw error;
};

/** Two nodes' buses on one Redis at `url`, under a prefix of this test's own. */
function redisPair(url: string): [RedisBus, RedisBus] {
  const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`;
  const open = (node: string) => {
    const commands = new Redis(url, { maxRetriesPerRequest: 1 });
    const subscriber = commands.duplicate({ autoResubscribe: false, maxRetriesPerRequest: null });
    for (const connection of [commands, subscriber]) connection.on('error', () => undefined);
    return new RedisBus(node, commands, subscriber, prefix, failOnHandlerError);
  };
  return [open('node-a'), open('node-b')];
}

function nextMessage(bus: ClusterBus, channel: string): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve) => {
      const stop = bus.subscribe(channel, (message) => {
        stop();
        resolve(message);
      });
    }),
    EVENT_TIMEOUT_MS,
    `a message on ${channel}`,
  );
}

const opened: ClusterBus[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((bus) => bus.close()));
});

describe('MemoryBus', () => {
  it('delivers to its own handlers after the publish returns, and its link never drops', async () => {
    const bus = new MemoryBus('solo', failOnHandlerError);
    const received: string[] = [];
    bus.subscribe('sessions', (message) => received.push(message));
    await bus.publish('sessions', 'one');
    await Promise.resolve();
    expect(received).toEqual(['one']);
    expect(bus.connected).toBe(true);
  });

  it('keeps delivering to the other handlers when one throws', async () => {
    const errors: unknown[] = [];
    const bus = new MemoryBus('solo', (error) => errors.push(error));
    const received: string[] = [];
    bus.subscribe('c', () => {
      throw new Error('handler failed');
    });
    bus.subscribe('c', (message) => received.push(message));
    await bus.publish('c', 'x');
    await Promise.resolve();
    expect(received).toEqual(['x']);
    expect(errors).toHaveLength(1);
  });
});

describe.each(redisUrl === undefined ? [] : [redisUrl])('RedisBus on %s', (url) => {
  it('delivers a message to every node, the publisher included, on the channels each listens to', async () => {
    const [a, b] = redisPair(url);
    opened.push(a, b);
    const toB = nextMessage(b, 'sessions');
    const toA = nextMessage(a, 'sessions');
    const otherChannel: string[] = [];
    b.subscribe('presence', (message) => otherChannel.push(message));
    await Promise.all([linkIs(a, true), linkIs(b, true)]);
    await a.publish('sessions', '{"hello":1}');
    expect(await toB).toBe('{"hello":1}');
    expect(await toA).toBe('{"hello":1}');
    expect(otherChannel).toEqual([]);
  });

  it('stops delivering to a handler that unsubscribed', async () => {
    const [a, b] = redisPair(url);
    opened.push(a, b);
    const dropped: string[] = [];
    const stop = b.subscribe('c', (message) => dropped.push(message));
    const kept = nextMessage(b, 'd');
    await Promise.all([linkIs(a, true), linkIs(b, true)]);
    stop();
    await a.publish('c', 'lost');
    await a.publish('d', 'kept');
    expect(await kept).toBe('kept');
    expect(dropped).toEqual([]);
  });
});

// A redis-server of this test's own, so that stopping it does not touch the suite's shared one.
describe.each(redisUrl === undefined ? [] : ['private redis-server'])(
  'RedisBus when Redis stops and comes back (%s)',
  () => {
    let redis: PrivateRedis;
    afterAll(() => redis?.close());

    it('reports the link down, refuses to publish, then resubscribes by itself and reports it up', async () => {
      redis = await PrivateRedis.start();
      const [a, b] = redisPair(redis.url);
      opened.push(a, b);
      b.subscribe('sessions', () => undefined);
      await Promise.all([linkIs(a, true), linkIs(b, true)]);

      const down = linkIs(b, false);
      await redis.stop(true);
      await down;
      await expect(a.publish('sessions', 'into the void')).rejects.toThrow();

      await redis.restart();
      await Promise.all([linkIs(a, true), linkIs(b, true)]);
      // Up means subscribed again: a message published now arrives.
      const arrives = nextMessage(b, 'sessions');
      await a.publish('sessions', 'back');
      expect(await arrives).toBe('back');
    });
  },
);
