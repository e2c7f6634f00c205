import type { RevocationCode } from './revocation.js';

/** The codes a revocation answers, by index: entries keep the index, not the string. */
const CODES: readonly RevocationCode[] = ['session_revoked', 'user_disabled'];
const CODE_SLOTS = 4;

/** A user refused as a whole (disabled or deleted): its tokens issued before `at` do not pass until `until`. */
interface UserEntry {
  code: RevocationCode;
  at: number;
  until: number;
}

/**
 * The sessions and users the feed said ended, each kept until the tokens issued for it would
 * have expired anyway (`tokensExpireBy`), then forgotten by `sweep`.
 *
 * Memory: a session is one Map entry, its id → one small integer (a V8 "Smi", stored inline,
 * not a boxed number): the expiry in whole seconds from the set's creation, times 4, plus the
 * code's index. 100 000 revocations cost their ids plus about 3 MB of table.
 */
export class RevokedSet {
  private readonly sessions = new Map<string, number>();
  private readonly users = new Map<string, UserEntry>();
  private readonly originSeconds: number;

  /**
   * `marginMs` lengthens every entry by the verifier's clock tolerance: a token is accepted that
   * long past its `exp`, so its revocation must be remembered that long too.
   */
  constructor(
    private readonly now: () => number,
    private readonly marginMs = 0,
  ) {
    this.originSeconds = Math.floor(now() / 1000);
  }

  /** Session and user entries held now. */
  get size(): number {
    return this.sessions.size + this.users.size;
  }

  addSession(sessionId: string, code: RevocationCode, until: number): void {
    const seconds = Math.ceil((until + this.marginMs) / 1000) - this.originSeconds;
    const previous = this.sessions.get(sessionId);
    // A later event may only lengthen the entry (a session's tokens never expire sooner).
    if (previous !== undefined && Math.floor(previous / CODE_SLOTS) >= seconds) return;
    this.sessions.set(sessionId, seconds * CODE_SLOTS + CODES.indexOf(code));
  }

  addUser(userId: string, entry: UserEntry): void {
    this.users.set(userId, { ...entry, until: entry.until + this.marginMs });
  }

  removeUser(userId: string): void {
    this.users.delete(userId);
  }

  /** Why a token of `sessionId` and `userId`, issued at `issuedAt`, is refused; `undefined` when it is not. */
  refusal(sessionId: string, userId: string, issuedAt: number): RevocationCode | undefined {
    const now = this.now();
    const encoded = this.sessions.get(sessionId);
    if (encoded !== undefined) {
      if (this.untilOf(encoded) > now) return CODES[encoded & (CODE_SLOTS - 1)];
      this.sessions.delete(sessionId);
    }
    const user = this.users.get(userId);
    if (user !== undefined) {
      if (user.until <= now) this.users.delete(userId);
      else if (issuedAt < user.at) return user.code;
    }
    return undefined;
  }

  /** Forgets every entry whose tokens have all expired. */
  sweep(): void {
    const now = this.now();
    for (const [sessionId, encoded] of this.sessions) if (this.untilOf(encoded) <= now) this.sessions.delete(sessionId);
    for (const [userId, user] of this.users) if (user.until <= now) this.users.delete(userId);
  }

  private untilOf(encoded: number): number {
    return (Math.floor(encoded / CODE_SLOTS) + this.originSeconds) * 1000;
  }
}
