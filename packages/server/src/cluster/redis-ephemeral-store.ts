import type { Redis } from 'ioredis';
import type { EphemeralStore } from './ephemeral-store.js';

// Creates the counter with its expiry, or increments it keeping the expiry it has: one atomic step.
const INCR_WITH_TTL = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/** The Lua commands defined below, as ioredis adds them to the client (EVALSHA, EVAL on a cache miss). */
type WithScripts = Redis & { tesseraIncrWithTtl(key: string, ttlMs: number): Promise<number> };

/**
 * The cluster adapter: every node sees the same keys. Redis expires keys by its own clock, so
 * this adapter does not follow an injected clock; tests of time-dependent behaviour use the
 * in-process adapter, and the conformance suite checks both agree on everything else.
 */
export class RedisEphemeralStore implements EphemeralStore {
  constructor(
    private readonly redis: Redis,
    /** Namespaces this deployment's keys, e.g. `tessera:`. */
    private readonly prefix: string,
  ) {
    redis.defineCommand('tesseraIncrWithTtl', { numberOfKeys: 1, lua: INCR_WITH_TTL });
  }

  async setEx(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async take(key: string): Promise<string | undefined> {
    return (await this.redis.getdel(this.prefix + key)) ?? undefined;
  }

  async incrWithTtl(key: string, ttlMs: number): Promise<number> {
    return Number(
      await (this.redis as WithScripts).tesseraIncrWithTtl(this.prefix + key, Math.max(1, Math.ceil(ttlMs))),
    );
  }

  async ttl(key: string): Promise<number | undefined> {
    const remaining = await this.redis.pttl(this.prefix + key);
    return remaining < 0 ? undefined : remaining;
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
