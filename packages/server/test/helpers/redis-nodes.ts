import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ClusterBus } from '../../src/cluster/bus.js';
import { RedisBus } from '../../src/cluster/redis-bus.js';
import { withTimeout } from './realtime.js';

/** One node's bus on a real Redis, with its two connections (to cut the link on purpose). */
export interface RedisNode {
  bus: RedisBus;
  commands: Redis;
  subscriber: Redis;
  close(): Promise<void>;
}

/** Buses of `nodes` on one Redis at `url`, under a prefix of their own; each resolves once its link is up. */
export async function redisNodes(url: string, ...nodes: string[]): Promise<RedisNode[]> {
  const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`;
  return Promise.all(
    nodes.map(async (node) => {
      const commands = new Redis(url, { maxRetriesPerRequest: 1 });
      const subscriber = commands.duplicate({ autoResubscribe: false, maxRetriesPerRequest: null });
      for (const connection of [commands, subscriber]) connection.on('error', () => undefined);
      const bus = new RedisBus(node, commands, subscriber, prefix, (error) => {
        throw error;
      });
      await linkIs(bus, true);
      return {
        bus,
        commands,
        subscriber,
        async close() {
          await bus.close();
          commands.disconnect();
        },
      };
    }),
  );
}

/** Resolves once every subscription made so far reached Redis (a PING is answered after them). */
export async function subscribed(nodes: RedisNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.subscriber.ping()));
}

export function linkIs(bus: ClusterBus, up: boolean): Promise<void> {
  if (bus.connected === up) return Promise.resolve();
  return withTimeout(
    new Promise<void>((resolve) => {
      const stop = bus.onLinkChange((now) => {
        if (now !== up) return;
        stop();
        resolve();
      });
    }),
    15_000,
    `the link to be ${up ? 'up' : 'down'}`,
  );
}
