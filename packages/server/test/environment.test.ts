import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { backends, postgresUrl, redisUrl } from './helpers/backends.js';

async function pingPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    expect((await client.query<{ ok: number }>('select 1 as ok')).rows[0]?.ok).toBe(1);
  } finally {
    await client.end();
  }
}

async function pingRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
  } finally {
    redis.disconnect();
  }
}

// Under CI, helpers/backends.ts refuses to load without both URLs; this checks that they answer,
// so an unreachable service fails the run instead of quietly narrowing it.
describe('the test environment', () => {
  it('reaches every configured service, and runs storage tests on each configured database', async () => {
    if (postgresUrl !== undefined) await pingPostgres(postgresUrl);
    if (redisUrl !== undefined) await pingRedis(redisUrl);
    expect(backends.map((backend) => backend.name)).toEqual(
      postgresUrl === undefined ? ['sqlite'] : ['sqlite', 'postgres'],
    );
  });
});
