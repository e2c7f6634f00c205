import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { DiscardedConnectionError } from './errors.js';

/**
 * The pool Kysely draws PostgreSQL connections from, over node-postgres's own, so that a
 * connection whose query failed on the client side (the read deadline passed, the socket broke)
 * is never handed out again: Kysely releases every connection as if it were healthy.
 */
export class DiscardingPool implements PostgresPool {
  constructor(private readonly pool: pg.Pool) {}

  async connect(): Promise<PostgresPoolClient> {
    return new DiscardingClient(await this.pool.connect());
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

class DiscardingClient implements PostgresPoolClient {
  /** Why this connection may no longer be trusted to be in step with the server. */
  private broken: unknown;

  constructor(private readonly client: pg.PoolClient) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') throw new Error('cursors are not used with this pool');
    // A query behind a timed-out one would wait behind it (and its own deadline) on the same
    // socket: a transaction's rollback fails at once instead.
    if (this.broken !== undefined) return Promise.reject(new DiscardedConnectionError(this.broken));
    return this.send<R>(sqlOrCursor, parameters ?? []);
  }

  private async send<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    try {
      // The same result node-postgres hands Kysely's own pool; only its row type is Kysely's.
      return (await this.client.query(sql, [...parameters])) as unknown as PostgresQueryResult<R>;
    } catch (error) {
      // An answer from the server leaves the connection in step; anything else (a read timeout,
      // a lost socket) may have left a query in flight on it.
      if (!(error instanceof pg.DatabaseError)) this.broken = error;
      throw error;
    }
  }

  release(destroy?: boolean): void {
    // node-postgres closes a client released with a truthy argument, and destroys its socket
    // when a query is still in flight, rather than putting it back in the pool.
    this.client.release(destroy === true || this.broken !== undefined);
  }
}
