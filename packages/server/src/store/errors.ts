import { TesseraError } from '../errors.js';

/**
 * Whether a driver error is a unique-constraint violation. SQLite and PostgreSQL report it
 * with different codes; this is the one place that knows both.
 */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** How long a client is asked to wait when the database does not answer: about a reconnect attempt of the pool. */
export const DATABASE_RETRY_AFTER_SECONDS = 3;

/** Socket errors of a host that cannot be reached, or that went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs of a server that cannot serve now: admin, crash and startup shutdown
 * (57P01–57P03), too many connections (53300), a statement past its deadline (57014, how
 * statement_timeout cancels), a lock not had in time (55P03), a transaction ended for idling
 * past its deadline (25P03). Class 08 (connection exception) is checked apart.
 */
const POSTGRES_UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '55P03', '25P03']);

/** A database check (the readiness probe's) that got no answer in time. */
export class DatabaseDeadlineError extends Error {
  constructor(milliseconds: number) {
    super(`The database did not answer within ${milliseconds} ms.`);
    this.name = 'DatabaseDeadlineError';
  }
}

/** A query sent on a connection that an earlier query found lost or silent. */
export class DiscardedConnectionError extends Error {
  constructor(cause: unknown) {
    super('The database connection was lost or stopped answering; it is being discarded.', { cause });
    this.name = 'DiscardedConnectionError';
  }
}

/** node-postgres reports a lost or never-made connection as a plain Error with one of these messages. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated', // unexpectedly, or due to connection timeout
  'timeout exceeded when trying to connect', // the pool's connectionTimeoutMillis
  'Query read timeout', // the client's query_timeout: the server did not answer at all
  'is not queryable', // a client whose connection broke, or a pool that was ended
];

/**
 * Whether an error means the database cannot be reached or cannot serve right now, so
 * the same request may well succeed later: PostgreSQL down, unreachable, restarting, or out of
 * connections; SQLite locked by another process past its busy timeout. This is the one place
 * that knows the drivers' codes for it.
 */
export function isUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  if (error instanceof DatabaseDeadlineError || error instanceof DiscardedConnectionError) return true;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || POSTGRES_UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
  }
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.some((text) => message.includes(text))) return true;
  // A connection to a host with several addresses fails with an AggregateError of each attempt.
  if (Array.isArray(errors) && errors.some((inner) => isUnavailable(inner, depth + 1))) return true;
  return isUnavailable(cause, depth + 1);
}

/**
 * The `unavailable` error (503, Retry-After) of an error that says the database cannot be
 * reached; undefined for any other error. The REST error handler and the realtime gateway
 * both ask it, so every path answers an outage the same way.
 */
export function unavailableError(error: unknown): TesseraError | undefined {
  if (!isUnavailable(error)) return undefined;
  return new TesseraError('unavailable', { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, cause: error });
}
