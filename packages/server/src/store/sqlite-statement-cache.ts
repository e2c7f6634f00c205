import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { BoundedCache } from '../lib/bounded-cache.js';
import { systemClock } from '../lib/clock.js';

/** Distinct SQL texts kept prepared, the least recently used going first; queries with variable IN lists make new texts, so the cache is bounded. */
const MAX_STATEMENTS = 512;

/**
 * better-sqlite3 as Kysely's SQLite dialect sees it, but keeping each prepared statement:
 * Kysely prepares every query again, and on a login preparing costs about as much as running.
 * Reusing a statement is safe here because Kysely runs one query at a time on the connection
 * and Tessera never streams results (an iterating statement could not be reused meanwhile).
 */
export function withStatementCache(connection: SQLite.Database, maxStatements = MAX_STATEMENTS): SqliteDatabase {
  const statements = new BoundedCache<string, SQLite.Statement>({
    clock: systemClock,
    maxEntries: maxStatements,
    ttlMs: Number.POSITIVE_INFINITY,
  });
  return {
    close: () => void connection.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = connection.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
