/**
 * What the integrations share: reading a bearer token, answering a refusal with Tessera's error
 * envelope, and the index of open connections by session and by user that a revocation closes.
 * Internal: not exported from the package.
 */
import { ERROR_CODES, type ErrorEnvelope } from '@tessera/protocol';
import { VerifierError } from '../errors.js';
import type { Revocation } from '../revocation.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header: `undefined` when there is no header,
 * an `invalid_token` refusal when the header is there but is not a bearer token.
 */
export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  if (authorization === undefined || authorization === '') return undefined;
  const token = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
  if (token === undefined)
    throw new VerifierError('invalid_token', { message: 'The Authorization header must be "Bearer <token>".' });
  return token;
}

/** A thrown value as the verifier's error: anything that is not a VerifierError is `internal_error`. */
export function asVerifierError(error: unknown): VerifierError {
  return error instanceof VerifierError ? error : new VerifierError('internal_error', { cause: error });
}

/** Tessera's error envelope for a refusal, as its own servers answer it. */
export function envelopeOf(error: VerifierError): ErrorEnvelope {
  return { error: { code: error.code, message: error.message, status: error.status } };
}

/**
 * The headers of a refusal: `WWW-Authenticate` on a 401 (RFC 6750 §3: no error code when the
 * request had no token, `invalid_token` when its token was refused), `Retry-After` when it may
 * pass shortly.
 */
export function refusalHeaders(error: VerifierError): Record<string, string> {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (error.status === 401)
    headers['www-authenticate'] = error.code === 'missing_credentials' ? 'Bearer' : 'Bearer error="invalid_token"';
  if (error.code === 'unavailable') headers['retry-after'] = '1';
  return headers;
}

/** The WebSocket close code of Tessera's error code (4115 for `session_revoked`, 4116 for `user_disabled`). */
export function closeCodeOf(error: VerifierError): number {
  return ERROR_CODES[error.code].closeCode;
}

/**
 * The open connections of verified principals, by session and by user, so that a revocation
 * finds the ones it ends without scanning them all. A connection is removed when it closes;
 * empty sets are dropped, so the index holds nothing for connections that are gone.
 */
export class ConnectionIndex<Connection> {
  private readonly bySession = new Map<string, Set<Connection>>();
  private readonly byUser = new Map<string, Set<Connection>>();

  /** How many connections are open. */
  get size(): number {
    let size = 0;
    for (const connections of this.bySession.values()) size += connections.size;
    return size;
  }

  /** How many sessions and users have open connections (a test checks nothing is left behind). */
  get keys(): number {
    return this.bySession.size + this.byUser.size;
  }

  add(connection: Connection, principal: { userId: string; sessionId: string }): void {
    addTo(this.bySession, principal.sessionId, connection);
    addTo(this.byUser, principal.userId, connection);
  }

  remove(connection: Connection, principal: { userId: string; sessionId: string }): void {
    removeFrom(this.bySession, principal.sessionId, connection);
    removeFrom(this.byUser, principal.userId, connection);
  }

  /** The connections a revocation ends: its session's, or every one of its user's when it names no session. */
  ended(revocation: Revocation): Connection[] {
    const connections =
      revocation.sessionId === undefined
        ? this.byUser.get(revocation.userId)
        : this.bySession.get(revocation.sessionId);
    return connections === undefined ? [] : [...connections];
  }
}

function addTo<Connection>(index: Map<string, Set<Connection>>, key: string, connection: Connection): void {
  const connections = index.get(key);
  if (connections === undefined) index.set(key, new Set([connection]));
  else connections.add(connection);
}

function removeFrom<Connection>(index: Map<string, Set<Connection>>, key: string, connection: Connection): void {
  const connections = index.get(key);
  if (connections === undefined) return;
  connections.delete(connection);
  if (connections.size === 0) index.delete(key);
}
