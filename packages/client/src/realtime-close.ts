import { closeCodeAllowsReconnect, type ErrorCode } from '@tessera/protocol';
import { codeOfCloseCode } from './errors.js';
import type { SessionEndReason } from './events-types.js';

/**
 * Why a realtime connection closed, as the app is told.
 *
 * Ends of the session (no reconnect until a new login): `logged_out`, `expired`, `revoked`,
 * `disabled`, `user_ended`.
 * Reconnected by the client: `server_restart` (the server shut down), `network` (the
 * connection dropped or a peer stopped answering), `token_expired` (refreshed, then
 * reconnected), `rate_limited`, `server_error`, `timeout` (authentication took too long),
 * `slow_consumer`.
 * Given up: `rejected` (the server refused this client for good: `code` says why, e.g.
 * `too_many_connections`, `identity_mismatch`, `invalid_api_key`), `closed` (the app closed it).
 */
export type RealtimeCloseReason =
  | SessionEndReason
  | 'server_restart'
  | 'network'
  | 'token_expired'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'slow_consumer'
  | 'rejected'
  | 'closed';

export interface RealtimeCloseEvent {
  reason: RealtimeCloseReason;
  /** The WebSocket close code (Tessera's 4000–4199, or a standard one such as 1006). */
  closeCode: number;
  /** The error registry's code for `closeCode`, when it is one of Tessera's. */
  code?: ErrorCode;
  /** The server's detail after the code, e.g. `logout` or `password_changed` for `revoked`. */
  detail?: string;
  /** Whether the client will connect again by itself. */
  willReconnect: boolean;
  /** When `willReconnect`: the wait before the next attempt. */
  delayMs?: number;
}

/** The close code's meaning: its registry code, detail, and whether a reconnect may follow. */
export function describeClose(
  closeCode: number,
  reasonText: string,
): { code?: ErrorCode; detail?: string; reconnect: boolean; reason: RealtimeCloseReason } {
  const code = codeOfCloseCode(closeCode);
  const separator = reasonText.indexOf(':');
  const detail = separator > 0 && reasonText.slice(0, separator) === code ? reasonText.slice(separator + 1) : undefined;
  const base = { ...(code === undefined ? {} : { code }), ...(detail === undefined ? {} : { detail }) };
  // Standard close codes (1001 going away, 1006 dropped, 1011, 1012 restart…) are network events.
  if (code === undefined)
    return {
      ...base,
      reconnect: closeCode < 4000 || closeCodeAllowsReconnect(closeCode),
      reason: closeCode < 4000 ? 'network' : 'rejected',
    };
  const reconnect = closeCodeAllowsReconnect(closeCode);
  return { ...base, reconnect, reason: reasonOfCloseCode(code, detail, reconnect) };
}

function reasonOfCloseCode(code: ErrorCode, detail: string | undefined, reconnect: boolean): RealtimeCloseReason {
  switch (code) {
    case 'session_expired':
      return 'expired';
    case 'session_revoked':
      return detail === 'logout' ? 'logged_out' : 'revoked';
    case 'reconnect_token_reused':
      return 'revoked';
    case 'user_disabled':
      return 'disabled';
    case 'user_ended':
      return 'user_ended';
    case 'server_shutdown':
      return 'server_restart';
    case 'token_expired':
      return 'token_expired';
    case 'rate_limited':
      return 'rate_limited';
    case 'authentication_timeout':
      return 'timeout';
    case 'slow_consumer':
      return 'slow_consumer';
    default:
      // Other reconnect-allowed codes are server trouble (internal_error, overloaded, unavailable).
      return reconnect ? 'server_error' : 'rejected';
  }
}

/**
 * Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a random wait between 0 and min(max, initial × 2^attempt).
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, initialMs * 2 ** attempt));
}
