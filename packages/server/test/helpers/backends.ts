import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The storage backends every server test runs on. SQLite always; PostgreSQL when
 * TESSERA_TEST_POSTGRES_URL is set. Under CI a missing URL is an error, never a silent skip.
 */
export interface Backend {
  name: 'sqlite' | 'postgres';
  /** Prepares an empty database of its own; returns its URL (undefined: SQLite in dataDir) and a cleanup. */
  provision(): Promise<{ databaseUrl: string | undefined; dataDir: string; dispose: () => Promise<void> }>;
}

export const postgresUrl = process.env.TESSERA_TEST_POSTGRES_URL;
export const redisUrl = process.env.TESSERA_TEST_REDIS_URL;

if (
  process.env.CI !== undefined &&
  process.env.CI !== '' &&
  process.env.CI !== 'false' &&
  (postgresUrl === undefined || redisUrl === undefined)
) {
  throw new Error('CI must set TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_REDIS_URL: storage tests may not be skipped');
}

const sqlite: Backend = {
  name: 'sqlite',
  provision: () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
    return Promise.resolve({
      databaseUrl: undefined,
      dataDir,
      dispose: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    });
  },
};

export const postgres = (url: string): Backend => ({
  name: 'postgres',
  async provision() {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
    // Each test server gets a schema of its own, so tests run in parallel without sharing rows.
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await withClient(url, (client) => client.query(`create schema ${schema}`));
    const databaseUrl = `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
    return {
      databaseUrl,
      dataDir,
      dispose: async () => {
        await withClient(url, (client) => client.query(`drop schema ${schema} cascade`));
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
});

async function withClient<T>(url: string, act: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await act(client);
  } finally {
    await client.end();
  }
}

export const backends: Backend[] = postgresUrl === undefined ? [sqlite] : [sqlite, postgres(postgresUrl)];
