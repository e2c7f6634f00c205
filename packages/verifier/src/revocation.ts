/** Why a session can no longer be used, as the error code `verify` answers. */
export type RevocationCode = 'session_revoked' | 'user_disabled';

/**
 * Where `verify` learns that a session ended before its tokens expire. Tessera's revocation feed
 * (issue 15) will be one; until then an app may plug in its own. It is asked on every `verify`,
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
}
