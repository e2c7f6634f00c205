import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';
import { settledWithin } from '../lib/deadline.js';
import { DatabaseDeadlineError } from './errors.js';
import { DiscardingPool } from './postgres-pool.js';
import { withStatementCache } from './sqlite-statement-cache.js';

export type Engine = 'sqlite' | 'postgres';

/** An open database: the query builder, which engine answers, and how to end it. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /** Where the data lives, with no password: safe to log. */
  readonly location: string;
  /** The PostgreSQL schema the tables live in, when the URL names one (`?schema=`). */
  readonly schema?: string;
  /**
   * Resolves when the database answers a trivial query within the readiness deadline, rejects
   * once that passed. Checks asked for while one is in flight share it, so a load balancer's
   * polls never pile up on a database that stopped answering.
   */
  ping(): Promise<void>;
  /** Runs long work (migrations) on a connection without the statement deadline. */
  unbounded<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** How long each kind of database call may take (see the server config's descriptions). */
export interface DatabaseDeadlines {
  connectMs: number;
  statementMs: number;
  pingMs: number;
}

export const DEFAULT_DEADLINES: DatabaseDeadlines = { connectMs: 2000, statementMs: 3000, pingMs: 1000 };

/**
 * A query sent to PostgreSQL is given up on this long after the statement deadline: a server
 * that is alive cancels the statement itself first, and its connection stays usable.
 */
export const SERVER_CANCEL_GRACE_MS = 250;

export interface OpenStoreOptions {
  /** `postgres://…` (optionally `?schema=name`), `sqlite://path`, `sqlite://:memory:`, or undefined for SQLite in `dataDir`. */
  url?: string | undefined;
  dataDir: string;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
  deadlines?: DatabaseDeadlines;
}

const POSTGRES_INT8 = 20;

export function openStore({ url, dataDir, poolSize = 10, deadlines = DEFAULT_DEADLINES }: OpenStoreOptions): Store {
  if (url !== undefined && /^postgres(ql)?:\/\//.test(url)) return openPostgres(url, poolSize, deadlines);
  const file = url === undefined ? defaultSqliteFile(dataDir) : sqliteFileFromUrl(url);
  return openSqlite(file, deadlines);
}

function defaultSqliteFile(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  return join(dataDir, 'tessera.db');
}

function sqliteFileFromUrl(url: string): string {
  const path = url.slice('sqlite://'.length);
  if (path === ':memory:') return path;
  return isAbsolute(path) ? path : resolve(path);
}

function openSqlite(file: string, deadlines: DatabaseDeadlines): Store {
  // A CLI command and the server may share the file: a lock is waited for, but only as long as any call may take.
  const connection = new SQLite(file, { timeout: deadlines.statementMs });
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(connection) }) });
  return {
    db,
    engine: 'sqlite',
    location: file === ':memory:' ? 'sqlite (in memory)' : `sqlite ${file}`,
    ping: sharedCheck(() => selectOne(db), deadlines.pingMs),
    unbounded: (work) => work(db),
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, poolSize: number, deadlines: DatabaseDeadlines): Store {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  const connection: pg.PoolConfig = {
    connectionString: parsed.toString(),
    // A peer that vanished without closing (a cut cable, a dead host) is noticed on idle connections too.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(schema === null ? {} : { options: `-c search_path=${quoteIdentifier(schema)}` }),
    // Timestamps are BIGINT milliseconds, well inside Number's exact range.
    types: { getTypeParser: parseInt8AsNumber },
  };
  const pool = listenForLostConnections(
    new pg.Pool({
      ...connection,
      max: poolSize,
      // Opening a connection, and waiting for a busy pool to free one.
      connectionTimeoutMillis: deadlines.connectMs,
      // The server ends what runs too long, or a transaction whose client went quiet (and frees its locks)…
      statement_timeout: deadlines.statementMs,
      idle_in_transaction_session_timeout: deadlines.statementMs,
      // …and the client stops waiting for a server that no longer answers at all; the pool
      // below then discards that connection.
      query_timeout: deadlines.statementMs + SERVER_CANCEL_GRACE_MS,
    }),
  );
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new DiscardingPool(pool) }) });
  parsed.password = '';
  return {
    db,
    engine: 'postgres',
    location: `postgres ${parsed.host}${parsed.pathname}${schema === null ? '' : ` schema ${schema}`}`,
    ...(schema === null ? {} : { schema }),
    ping: sharedCheck(() => selectOne(db), deadlines.pingMs),
    unbounded: async (work) => {
      const unboundedPool = listenForLostConnections(
        new pg.Pool({ ...connection, max: 1, connectionTimeoutMillis: deadlines.connectMs }),
      );
      const unboundedDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: unboundedPool }) });
      try {
        return await work(unboundedDb);
      } finally {
        await unboundedDb.destroy();
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * A connection lost must not crash the process. node-postgres emits 'error' on the client as
 * well as failing its queries; the pool listens only while the client is idle, so a client in
 * use (inside a transaction, say) needs a listener of its own. The failed query still rejects;
 * the broken client is dropped when released, and the next query opens a new connection, so
 * the node recovers by itself once the database is back.
 */
function listenForLostConnections(pool: pg.Pool): pg.Pool {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

async function selectOne(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** `check`, run once at a time however many wait for it, each caller waiting `timeoutMs` at most. */
function sharedCheck(check: () => Promise<void>, timeoutMs: number): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  return async () => {
    const shared = (inFlight ??= check().finally(() => (inFlight = undefined)));
    if (!(await settledWithin(shared, timeoutMs))) throw new DatabaseDeadlineError(timeoutMs);
    await shared;
  };
}

const parseInt8AsNumber = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === POSTGRES_INT8
    ? (value: string) => Number(value)
    : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser;

function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid PostgreSQL schema name: ${name}`);
  return name;
}

/** Applies every pending migration. Safe to run from several nodes at once (Kysely locks). */
export async function migrateToLatest(store: Store): Promise<string[]> {
  // A migration may rewrite a large table: it is not held to the deadline of a request's query.
  return store.unbounded((db) => migrate(db, store.schema));
}

async function migrate(db: Kysely<Database>, schema: string | undefined): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    // Kysely looks for its bookkeeping tables in every schema unless told which: without this, a
    // schema of its own would find another schema's tables and never create its own.
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined)
    throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
