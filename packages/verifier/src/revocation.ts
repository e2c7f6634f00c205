/** Why a session can no longer be used, as the error code `verify` answers. */
export type RevocationCode = 'session_revoked' | 'user_disabled';

/**
 * Where `verify` learns that a session ended before its tokens expire, besides Tessera's
 * revocation feed (which the verifier subscribes to when given a secret key): an app may plug in
 * its own. It is asked on every `verify`,
 * for cached tokens too, so it answers from memory; it keeps each revoked session until the
 * session's tokens would have expired anyway.
 *
 * @example
 * ```ts
 * const ended = new Set<string>();
 * const revocations: RevocationSource = {
 *   revoked: (sessionId) => (ended.has(sessionId) ? 'session_revoked' : undefined),
 * };
 * const verifier = createVerifier({ url, app: 'demo/chat', revocations });
 * ```
 */
export interface RevocationSource {
  /**
   * The reason the session ended, or `undefined` while it may still be live.
   *
   * @example
   * ```ts
   * revocations.revoked(principal.sessionId); // 'session_revoked' after a logout
   * ```
   */
  revoked(sessionId: string): RevocationCode | undefined;
  /**
   * Calls `listener` for each session that ends from now on, so that connections holding it
   * close; returns the call that stops listening. Optional: a source without it only refuses
   * the ended sessions' tokens in `verify`.
   *
   * @example
   * ```ts
   * const stop = revocations.onRevoked?.(({ sessionId, code }) => sockets.get(sessionId)?.close(4115, code));
   * ```
   */
  onRevoked?(listener: RevocationListener): () => void;
}

/**
 * A session that ended: `sessionId` is absent when every session of `userId` ended at once (the
 * user was disabled or deleted).
 *
 * @example
 * ```ts
 * verifier.onRevoked((revocation: Revocation) => {
 *   if (revocation.sessionId === undefined) closeUser(revocation.userId, revocation.code);
 *   else closeSession(revocation.sessionId, revocation.code);
 * });
 * ```
 */
export interface Revocation {
  readonly userId: string;
  readonly sessionId?: string;
  readonly code: RevocationCode;
}

export type RevocationListener = (revocation: Revocation) => void;
