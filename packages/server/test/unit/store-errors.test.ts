import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isUnavailable, unavailableError } from '../../src/store/errors.js';
import { postgresUrl } from '../helpers/backends.js';

/** The error a promise rejects with. */
async function failure(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** A port on 127.0.0.1 with nobody listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('which driver errors mean the database is unreachable (issue 6)', () => {
  it('knows a refused PostgreSQL connection, and answers it with 503 unavailable and Retry-After', async () => {
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/none`,
      connectionTimeoutMillis: 2000,
    });
    const error = await failure(() => client.connect());
    expect(isUnavailable(error)).toBe(true);
    expect(unavailableError(error)).toMatchObject({
      code: 'unavailable',
      status: 503,
      retryAfterSeconds: expect.any(Number) as number,
    });
  });

  it('knows an SQLite database locked by another connection past its busy timeout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-busy-'));
    const holder = new SQLite(join(dir, 'db.sqlite'));
    const waiter = new SQLite(join(dir, 'db.sqlite'));
    try {
      holder.exec('create table t (x integer)');
      waiter.pragma('busy_timeout = 0');
      holder.exec('begin exclusive');
      let error: unknown;
      try {
        waiter.exec('insert into t values (1)');
      } catch (thrown) {
        error = thrown;
      }
      expect(isUnavailable(error)).toBe(true);
      holder.exec('rollback');
    } finally {
      holder.close();
      waiter.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not take an ordinary SQL error for an outage', () => {
    const db = new SQLite(':memory:');
    db.exec('create table t (x integer primary key)');
    db.exec('insert into t values (1)');
    const errors: unknown[] = [];
    for (const statement of ['insert into t values (1)', 'select nonsense from t']) {
      try {
        db.exec(statement);
      } catch (error) {
        errors.push(error);
      }
    }
    db.close();
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(isUnavailable(error)).toBe(false);
    expect(unavailableError(new Error('boom'))).toBeUndefined();
  });

  describe.each(postgresUrl === undefined ? [] : [postgresUrl])('on PostgreSQL', (url) => {
    it('knows a connection the server ended (admin shutdown, 57P01)', async () => {
      const victim = new pg.Client({ connectionString: url });
      const admin = new pg.Client({ connectionString: url });
      victim.on('error', () => undefined);
      await victim.connect();
      await admin.connect();
      try {
        const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
        await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        const error = await failure(() => victim.query('select 1'));
        expect(isUnavailable(error)).toBe(true);
      } finally {
        await admin.end();
        await victim.end().catch(() => undefined);
      }
    });

    it('does not take a constraint or syntax error for an outage', async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        expect(isUnavailable(await failure(() => client.query('select nonsense_column from pg_class')))).toBe(false);
        expect(isUnavailable(await failure(() => client.query('select 1/0')))).toBe(false);
      } finally {
        await client.end();
      }
    });
  });
});
