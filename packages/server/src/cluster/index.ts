import { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import type { Clock } from '../lib/clock.js';
import type { EphemeralStore } from './ephemeral-store.js';
import { MemoryEphemeralStore } from './memory-ephemeral-store.js';
import { RedisEphemeralStore } from './redis-ephemeral-store.js';

export type { EphemeralStore } from './ephemeral-store.js';

/** Redis when the configuration names one, so every node shares the state; this process's memory otherwise. */
export function openEphemeralStore(config: Readonly<Config>, clock: Clock): EphemeralStore {
  if (config.redisUrl === undefined) return new MemoryEphemeralStore(clock);
  // While Redis is away a command fails after one reconnection attempt instead of waiting; the client reconnects by itself.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5000 });
  // Errors reach the callers of each command; the connection's own error events must not crash the process.
  redis.on('error', () => undefined);
  return new RedisEphemeralStore(redis, config.redisKeyPrefix);
}
