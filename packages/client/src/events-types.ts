import type { User } from '@tessera/protocol';
import type { TesseraError } from './errors.js';

/**
 * Why a session ended for this client.
 *
 * - `logged_out`: `logout()` here or in another tab sharing the storage.
 * - `expired`: the session's idle or absolute lifetime ran out, or its reconnect token did.
 * - `revoked`: ended by a logout elsewhere, `sessions.revoke`, a password change, an admin, or
 *   because a spent reconnect token was presented again (see `detail`).
 * - `disabled`: the user was disabled.
 * - `user_ended`: an anonymous or guest user came to its end.
 */
export type SessionEndReason = 'logged_out' | 'expired' | 'revoked' | 'disabled' | 'user_ended';

export interface SessionEndedEvent {
  reason: SessionEndReason;
  /** More precise cause when the server gave one, e.g. `password_changed`, `user_upgraded`, `reconnect_token_reused`. */
  detail?: string;
  /** The error that revealed the end, when it was one. */
  error?: TesseraError;
  /** The id of the session that ended. */
  sessionId: string;
}

/** The session the client holds, as the app sees it. Times are ISO 8601 strings, as the server gave them. */
export interface SessionInfo {
  id: string;
  /** The login strategy that started it. */
  strategy: string;
  expiresAt: string;
  idleExpiresAt: string;
}

/** Events of the client itself (`client.on`). */
export interface ClientEvents {
  /** A session began for this client: a login here, or one another tab made. */
  authenticated: { user: User; session: SessionInfo };
  /** New tokens for the same session (a refresh here or in another tab). */
  refreshed: { accessToken: string; accessTokenExpiresAt: string; session: SessionInfo };
  /** The session ended; the client holds no credentials any more. */
  sessionEnded: SessionEndedEvent;
  /** The signed-in user's record changed (profile update, upgrade). */
  userUpdated: User;
}

/** Called when a call needed the session and found it over. See `onSessionExpired`. */
export interface SessionExpiredContext {
  reason: SessionEndReason;
  error: TesseraError;
  /** Runs the interrupted calls again (after you logged in again). */
  retry: () => void;
  /** Lets the interrupted calls fail with `error`. */
  fail: () => void;
}

export type SessionExpiredHandler = (context: SessionExpiredContext) => void | Promise<void>;

/** Why a session-ending error ended the session. */
export function reasonOf(error: TesseraError): SessionEndReason {
  const { code } = error;
  if (code === 'session_revoked')
    return (error.details as { reason?: unknown } | undefined)?.reason === 'logout' ? 'logged_out' : 'revoked';
  if (code === 'reconnect_token_reused') return 'revoked';
  if (code === 'user_disabled') return 'disabled';
  if (code === 'user_ended') return 'user_ended';
  return 'expired';
}
