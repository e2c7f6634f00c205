import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';
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
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** `postgres://…` (optionally `?schema=name`), `sqlite://path`, `sqlite://:memory:`, or undefined for SQLite in `dataDir`. */
  url?: string | undefined;
  dataDir: string;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
}

const POSTGRES_INT8 = 20;

export function openStore({ url, dataDir, poolSize = 10 }: OpenStoreOptions): Store {
  if (url !== undefined && /^postgres(ql)?:\/\//.test(url)) return openPostgres(url, poolSize);
  const file = url === undefined ? defaultSqliteFile(dataDir) : sqliteFileFromUrl(url);
  return openSqlite(file);
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

function openSqlite(file: string): Store {
  const connection = new SQLite(file);
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
  // A CLI command and the server may share the file; wait for a lock instead of failing.
  connection.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(connection) }) });
  return {
    db,
    engine: 'sqlite',
    location: file === ':memory:' ? 'sqlite (in memory)' : `sqlite ${file}`,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, poolSize: number): Store {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: poolSize,
    // A database that cannot be reached fails a request after this long instead of holding it.
    connectionTimeoutMillis: 5000,
    // A peer that vanished without closing (a cut cable, a dead host) is noticed on idle
    // connections. No client-side query timeout: pg leaves a timed-out query running on its
    // connection, which would then go back to the pool wedged.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(schema === null ? {} : { options: `-c search_path=${quoteIdentifier(schema)}` }),
    // Timestamps are BIGINT milliseconds, well inside Number's exact range.
    types: { getTypeParser: parseInt8AsNumber },
  });
  // A connection lost must not crash the process. node-postgres emits 'error' on the client as
  // well as failing its queries; the pool listens only while the client is idle, so a client in
  // use (inside a transaction, say) needs a listener of its own. The failed query still rejects;
  // the broken client is dropped when released, and the next query opens a new connection, so
  // the node recovers by itself once the database is back.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  parsed.password = '';
  return {
    db,
    engine: 'postgres',
    location: `postgres ${parsed.host}${parsed.pathname}${schema === null ? '' : ` schema ${schema}`}`,
    ...(schema === null ? {} : { schema }),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

const parseInt8AsNumber = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === POSTGRES_INT8 ? (value: string) => Number(value) : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser;

function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid PostgreSQL schema name: ${name}`);
  return name;
}

/** Applies every pending migration. Safe to run from several nodes at once (Kysely locks). */
export async function migrateToLatest(store: Store): Promise<string[]> {
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    // Kysely looks for its bookkeeping tables in every schema unless told which: without this, a
    // schema of its own would find another schema's tables and never create its own.
    ...(store.schema === undefined ? {} : { migrationTableSchema: store.schema }),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
