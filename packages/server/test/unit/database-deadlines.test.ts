import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { DatabaseDeadlineError, isUnavailable, unavailableError } from '../../src/store/errors.js';
import { postgres, postgresUrl } from '../helpers/backends.js';
import { endpointOf, TcpProxy } from '../helpers/tcp-proxy.js';

/** The error a promise rejects with, and how long it took to. */
async function failure(action: () => Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const started = performance.now();
  try {
    await action();
  } catch (error) {
    return { error, elapsedMs: performance.now() - started };
  }
  throw new Error('expected a failure');
}

/** Polls `condition` every 50 ms, for `timeoutMs` at most: for what happens after a failure, not for racing it. */
async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Issue 12: every database call has a deadline; past it the call fails as `unavailable` (503).
// The upper bounds asserted are several times the configured deadline, far below the defaults
// and the old unbounded waits, so a loaded machine does not make them flaky.
describe('database deadlines (issue 12)', () => {
  it("SQLite waits for another process's lock only as long as the statement deadline, then answers unavailable and loses nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-deadline-'));
    const file = join(dir, 'db.sqlite');
    const store = openStore({
      url: `sqlite://${file}`,
      dataDir: dir,
      deadlines: { connectMs: 1000, statementMs: 300, pingMs: 200 },
    });
    const holder = new SQLite(file);
    try {
      await sql`create table notes (text text not null)`.execute(store.db);
      holder.exec('begin exclusive');
      const { error, elapsedMs } = await failure(() => sql`insert into notes values ('kept')`.execute(store.db));
      expect(isUnavailable(error)).toBe(true);
      expect(unavailableError(error)).toMatchObject({ code: 'unavailable', status: 503 });
      // Bounded by the deadline, not by the 5 s wait it had before: half of that leaves a busy
      // machine room to be late without racing the 300 ms itself.
      expect(elapsedMs).toBeLessThan(2500);
      holder.exec('rollback');
      await sql`insert into notes values ('kept')`.execute(store.db);
      const { rows } = await sql<{ text: string }>`select text from notes`.execute(store.db);
      expect(rows).toEqual([{ text: 'kept' }]);
    } finally {
      holder.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.each(postgresUrl === undefined ? [] : [postgresUrl])('on PostgreSQL', (url) => {
    const STATEMENT_MS = 1500;
    const PING_MS = 200;
    let link: TcpProxy;
    let store: Store;
    let dispose: () => Promise<void>;

    beforeAll(async () => {
      const provisioned = await postgres(url).provision();
      dispose = provisioned.dispose;
      link = new TcpProxy(() => [endpointOf(url)]);
      await link.start();
      const throughLink = new URL(provisioned.databaseUrl!);
      throughLink.host = `127.0.0.1:${link.port}`;
      store = openStore({
        url: throughLink.toString(),
        dataDir: provisioned.dataDir,
        poolSize: 2,
        deadlines: { connectMs: 500, statementMs: STATEMENT_MS, pingMs: PING_MS },
      });
      await sql`create table notes (text text not null)`.execute(store.db);
    });
    afterAll(async () => {
      link?.resume();
      await store?.close();
      await link?.close();
      await dispose?.();
    });

    it('cancels a statement that runs past the deadline as unavailable, and keeps the connection, which the server left in step', async () => {
      await store.ping();
      const { error, elapsedMs } = await failure(() => sql`select pg_sleep(10)`.execute(store.db));
      expect(error).toMatchObject({ code: '57014' });
      expect(isUnavailable(error)).toBe(true);
      expect(elapsedMs).toBeLessThan(3 * STATEMENT_MS);
      const connections = link.openConnections;
      expect((await sql<{ answer: number }>`select 42 as answer`.execute(store.db)).rows).toEqual([{ answer: 42 }]);
      expect(link.openConnections).toBe(connections);
    });

    it('fails calls on a link that silently drops packets within the deadline, discards their connections, and recovers once it forwards again', async () => {
      await sql`insert into notes values ('before')`.execute(store.db);
      expect(link.openConnections).toBeGreaterThan(0);
      link.stall();
      try {
        // The readiness check has a deadline of its own, shorter than any statement's.
        const ping = await failure(() => store.ping());
        expect(ping.error).toBeInstanceOf(DatabaseDeadlineError);
        expect(isUnavailable(ping.error)).toBe(true);
        expect(ping.elapsedMs).toBeLessThan(STATEMENT_MS);
        // Checks asked for meanwhile share the one in flight.
        const pings = await Promise.allSettled([store.ping(), store.ping(), store.ping()]);
        expect(pings.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected']);

        const [read, write] = await Promise.all([
          failure(() => sql`select text from notes`.execute(store.db)),
          failure(() =>
            store.db.transaction().execute(async (transaction) => {
              await sql`insert into notes values ('lost')`.execute(transaction);
              await sql`insert into notes values ('lost too')`.execute(transaction);
            }),
          ),
        ]);
        for (const { error, elapsedMs } of [read, write]) {
          expect(isUnavailable(error)).toBe(true);
          expect(unavailableError(error)).toMatchObject({ code: 'unavailable', status: 503 });
          // The connect deadline (waiting for a connection) plus the statement deadline, at most.
          expect(elapsedMs).toBeLessThan(3 * (500 + STATEMENT_MS));
        }
        // Not put back in the pool: every connection that stopped answering is closed.
        await eventually(() => link.openConnections === 0, 10_000, 'closing the silent connections');
      } finally {
        link.resume();
      }

      await store.ping();
      const { rows } = await sql<{ text: string }>`select text from notes order by text`.execute(store.db);
      expect(rows).toEqual([{ text: 'before' }]);
    });
  });
});
