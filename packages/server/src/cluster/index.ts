import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Clock } from '../lib/clock.js';
import type { ClusterBus } from './bus.js';
import type { EphemeralStore } from './ephemeral-store.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryEphemeralStore } from './memory-ephemeral-store.js';
import { RedisBus } from './redis-bus.js';
import { RedisEphemeralStore } from './redis-ephemeral-store.js';

export type { EphemeralStore } from './ephemeral-store.js';
export type { ClusterBus, BusHandler } from './bus.js';
export { openChannel, type Channel, type ChannelMessage } from './channel.js';

/**
 * The shared-state port: what the nodes of a cluster must agree on. In-process for a single
 * node (the default); on Redis when `TESSERA_REDIS_URL` is set, so every node shares it.
 */
export interface Cluster {
  readonly nodeId: string;
  /** Counters and one-time values with expiry (login throttling). */
  readonly ephemeral: EphemeralStore;
  /** Messages to every node (revocations, cache invalidations, presence). */
  readonly bus: ClusterBus;
  /** Whether the shared state lives outside this process. */
  readonly shared: boolean;
  close(): Promise<void>;
}

/** A node id that says where it runs and differs on every start: `host-pid-random`. */
export function newNodeId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function openCluster(config: Readonly<Config>, clock: Clock, logger: Logger): Cluster {
  const nodeId = newNodeId();
  const onHandlerError = (error: unknown, channel: string) =>
    logger.error({ err: error, channel }, 'cluster message handler failed');
  if (config.redisUrl === undefined) {
    const ephemeral = new MemoryEphemeralStore(clock);
    return {
      nodeId,
      ephemeral,
      bus: new MemoryBus(nodeId, onHandlerError),
      shared: false,
      close: () => ephemeral.close(),
    };
  }
  // While Redis is away a command fails after one reconnection attempt instead of waiting; the client reconnects by itself.
  const commands = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5000 });
  const subscriber = commands.duplicate({ autoResubscribe: false, maxRetriesPerRequest: null });
  let reported = false;
  for (const connection of [commands, subscriber]) {
    // Errors reach the callers of each command; the connection's own error events must not crash the process.
    connection.on('error', (error: Error) => {
      if (!reported) logger.warn({ err: error }, 'Redis is unreachable; retrying');
      reported = true;
    });
    connection.on('ready', () => (reported = false));
  }
  const ephemeral = new RedisEphemeralStore(commands, config.redisKeyPrefix);
  const bus = new RedisBus(nodeId, commands, subscriber, config.redisKeyPrefix, onHandlerError);
  bus.onLinkChange((up) =>
    logger[up ? 'info' : 'warn'](
      { node: nodeId },
      up ? 'cluster link to Redis is up' : 'cluster link to Redis is down',
    ),
  );
  return {
    nodeId,
    ephemeral,
    bus,
    shared: true,
    async close() {
      await bus.close();
      await ephemeral.close();
    },
  };
}
