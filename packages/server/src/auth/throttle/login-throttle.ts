import type { EphemeralStore } from '../../cluster/index.js';
import { TesseraError } from '../../errors.js';
import type { AppRecord } from '../../store/repositories/index.js';

/** Who is guessing: the account named (known or not, so lockouts do not reveal accounts) and the caller's address. */
export interface ThrottleSubject {
  /** The case-folded login (email or username key). */
  account: string;
  ip: string | null;
}

type Scope = 'account' | 'ip';

/**
 * Brute-force protection of password checks (OWASP Authentication Cheat Sheet, "Account
 * lockout"): failures are counted per account and per IP within a window; past the limit each
 * further failure makes the next attempt wait, twice as long as the last, up to a maximum.
 * While a wait runs every attempt answers 429 `rate_limited` with Retry-After, right or wrong,
 * without a password check. Counters live in the ephemeral store, so with Redis every node
 * shares them and they survive a node's restart.
 */
export class LoginThrottle {
  constructor(private readonly store: EphemeralStore) {}

  /** Throws `rate_limited` while the account or the address must wait. */
  async assertAllowed(app: AppRecord, subject: ThrottleSubject): Promise<void> {
    for (const key of this.lockKeys(app, subject)) {
      const remainingMs = await this.guard(() => this.store.ttl(key));
      if (remainingMs !== undefined) {
        throw new TesseraError('rate_limited', {
          message: 'Too many wrong passwords; wait before trying again.',
          retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)),
        });
      }
    }
  }

  async recordFailure(app: AppRecord, subject: ThrottleSubject): Promise<void> {
    const limits = app.settings.loginThrottle;
    await this.count(app, 'account', subject.account, limits.accountMaxFailures);
    if (subject.ip !== null) await this.count(app, 'ip', subject.ip, limits.ipMaxFailures);
  }

  /** A right password clears the account's failures; the address keeps its count. */
  async recordSuccess(app: AppRecord, subject: ThrottleSubject): Promise<void> {
    await this.guard(() => this.store.delete(key(app, 'failures', 'account', subject.account)));
  }

  /**
   * Lifts the waits and forgets the failures of these accounts (the backend set a new password:
   * its owner must be able to use it now). The addresses keep theirs: they are the guessers'.
   */
  async lift(app: AppRecord, accounts: readonly string[]): Promise<void> {
    for (const account of accounts) {
      for (const kind of ['failures', 'lock'] as const)
        await this.guard(() => this.store.delete(key(app, kind, 'account', account)));
    }
  }

  private async count(app: AppRecord, scope: Scope, id: string, maxFailures: number): Promise<void> {
    const { window, baseDelay, maxDelay } = app.settings.loginThrottle;
    const failures = await this.guard(() => this.store.incrWithTtl(key(app, 'failures', scope, id), window * 1000));
    if (failures < maxFailures) return;
    const delaySeconds = Math.min(maxDelay, baseDelay * 2 ** Math.min(30, failures - maxFailures));
    await this.guard(() => this.store.setEx(key(app, 'lock', scope, id), '1', delaySeconds * 1000));
  }

  private lockKeys(app: AppRecord, subject: ThrottleSubject): string[] {
    const keys = [key(app, 'lock', 'account', subject.account)];
    if (subject.ip !== null) keys.push(key(app, 'lock', 'ip', subject.ip));
    return keys;
  }

  /** Without its counters the throttle cannot protect anyone: it refuses rather than let guesses through. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new TesseraError('unavailable', {
        message: 'Login throttling state is unreachable; retry shortly.',
        retryAfterSeconds: 1,
        cause: error,
      });
    }
  }
}

function key(app: AppRecord, kind: 'failures' | 'lock', scope: Scope, id: string): string {
  return `login:${kind}:${scope}:${app.id}:${id}`;
}
