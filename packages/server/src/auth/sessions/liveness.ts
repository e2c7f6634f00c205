import { TesseraError } from '../../errors.js';
import type { AppRecord, Repositories, SessionRecord, UserRecord } from '../../store/repositories/index.js';
import type { RevocationReason } from './revocations.js';

/**
 * A session of `app` and its user as the store has them now. A session row is never deleted
 * alone: it goes with its user (ON DELETE CASCADE), whom the secret key deleted or the clean-up
 * removed once its time was up (users/maintenance.ts deletes users, never sessions). So
 * `user_deleted` is true whichever it was, and it is what the user's sockets were closed with;
 * the token that named the session was this app's own, which `invalid_token` would deny.
 */
export async function readSession(
  repositories: Repositories,
  app: AppRecord,
  sessionId: string,
): Promise<{ session: SessionRecord; user: UserRecord }> {
  // One statement for both (a node reads this again for every session it caches).
  const found = await repositories.sessions.findWithUser(sessionId);
  if (found !== undefined && found.session.appId !== app.id) throw new TesseraError('invalid_token');
  if (found?.user === undefined) throw new TesseraError('session_revoked', { details: { reason: 'user_deleted' } });
  return { session: found.session, user: found.user };
}

export function assertUserActive(user: UserRecord, now: number): void {
  if (user.disabledAt !== null) throw new TesseraError('user_disabled');
  // An ephemeral user that ended (anonymous) or outlived its lifetime (guest) is over for good.
  if (user.endedAt !== null || (user.expiresAt !== null && user.expiresAt <= now)) throw new TesseraError('user_ended');
}

export function sessionTimedOut(session: SessionRecord, now: number): boolean {
  return session.expiresAt <= now || session.idleExpiresAt <= now;
}

/** Throws the error that says why a session may not be used, if it may not. */
export function assertSessionLive(app: AppRecord, session: SessionRecord, user: UserRecord, now: number): void {
  // A disabled user's sessions are revoked too; the user's state is the more useful answer.
  assertUserActive(user, now);
  if (session.revokedAt !== null)
    throw new TesseraError('session_revoked', { details: { reason: session.revokedReason } });
  // Also a session the kill switch's sweep did not see (its login was being written meanwhile).
  if (app.sessionsRevokedBefore !== null && session.createdAt < app.sessionsRevokedBefore) {
    throw new TesseraError('session_revoked', { details: { reason: 'revoked_before' satisfies RevocationReason } });
  }
  if (sessionTimedOut(session, now)) throw new TesseraError('session_expired');
}
