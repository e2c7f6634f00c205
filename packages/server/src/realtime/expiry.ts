import type { Clock } from '../lib/clock.js';
import type { Cancel, Scheduler } from '../lib/scheduler.js';

export type ExpiryReason = 'access_token' | 'idle' | 'session';

export interface SessionTimes {
  expiresAt: number;
  idleExpiresAt: number;
}

/** What the timeline asks of its connection. */
export interface ExpiryHandlers {
  /** Push `session.expiring`. */
  notice(reason: ExpiryReason, expiresAt: number): void;
  /**
   * The access token expired without a refresh: close with token_expired, or with
   * session_expired when the token ended with its session (tokens never outlive it).
   */
  accessExpired(withSession: boolean): void;
  /**
   * The session's times as the store has them now (another connection or a REST call may
   * have moved the idle expiry), or undefined when the session is over (the connection closes).
   */
  reloadSession(): Promise<SessionTimes | undefined>;
}

interface Deadline {
  endsAt: number;
  noticeAt: number;
  noticed: boolean;
}

type Step = 'session-end' | 'access-end' | 'session-notice' | 'access-notice';

/**
 * One connection's deadlines, on one timer: the notice before the access token expires and
 * its expiry, and the notice before the session ends (idle or absolute) and its end. Session
 * deadlines re-read the session first, since activity elsewhere may have moved them.
 */
export class ExpiryTimeline {
  private access: Deadline = { endsAt: Number.POSITIVE_INFINITY, noticeAt: Number.POSITIVE_INFINITY, noticed: false };
  private session: Deadline & { reason: ExpiryReason } = {
    endsAt: Number.POSITIVE_INFINITY,
    noticeAt: Number.POSITIVE_INFINITY,
    noticed: false,
    reason: 'session',
  };
  /** The session's absolute end, which caps every access token (to the second). */
  private sessionExpiresAt = Number.POSITIVE_INFINITY;
  private cancel: Cancel | undefined;
  /** Counts session updates, so that a reload that raced with a newer update does not undo it. */
  private sessionVersion = 0;
  private reloading = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly noticeMs: number,
    private readonly handlers: ExpiryHandlers,
  ) {}

  /** A new access token (its own notice, then its expiry) and its session's times, on one timer. */
  bind(accessExpiresAt: number, session: SessionTimes): void {
    this.access = { endsAt: accessExpiresAt, noticeAt: this.noticeTime(accessExpiresAt), noticed: false };
    this.updateSession(session);
    this.arm();
  }

  /** The session's current times; a moved end earns a new notice. */
  setSession(times: SessionTimes): void {
    this.updateSession(times);
    this.arm();
  }

  private updateSession(times: SessionTimes): void {
    const endsAt = Math.min(times.expiresAt, times.idleExpiresAt);
    const reason: ExpiryReason = times.idleExpiresAt < times.expiresAt ? 'idle' : 'session';
    this.sessionVersion += 1;
    this.sessionExpiresAt = times.expiresAt;
    if (endsAt !== this.session.endsAt)
      this.session = { endsAt, noticeAt: this.noticeTime(endsAt), noticed: false, reason };
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  private noticeTime(endsAt: number): number {
    // Never more than half the time left: a 30-second token is not "expiring" as soon as it is issued.
    return endsAt - Math.min(this.noticeMs, Math.max(0, (endsAt - this.clock.now()) / 2));
  }

  private arm(): void {
    this.cancel?.();
    this.cancel = undefined;
    if (this.stopped) return;
    const [step, at] = this.nextStep();
    if (at === Number.POSITIVE_INFINITY) return;
    this.cancel = this.scheduler.at(at, () => this.run(step));
  }

  private nextStep(): [Step, number] {
    // On a tie, the session's end comes first: a refresh cannot save a session that ends.
    const candidates: [Step, number][] = [
      this.session.noticed ? ['session-end', this.session.endsAt] : ['session-notice', this.session.noticeAt],
      this.access.noticed ? ['access-end', this.access.endsAt] : ['access-notice', this.access.noticeAt],
    ];
    return candidates.reduce((earliest, candidate) => (candidate[1] < earliest[1] ? candidate : earliest));
  }

  private run(step: Step): void {
    this.cancel = undefined;
    if (this.stopped) return;
    if (step === 'access-notice') {
      this.access.noticed = true;
      if (this.accessEndsWithSession()) {
        // A refresh cannot help: the token ends because the session does. Say so, once.
        if (this.session.endsAt === this.sessionExpiresAt) this.session.noticed = true;
        this.handlers.notice('session', this.sessionExpiresAt);
      } else {
        this.handlers.notice('access_token', this.access.endsAt);
      }
      this.arm();
    } else if (step === 'access-end') {
      this.handlers.accessExpired(this.accessEndsWithSession());
    } else {
      void this.checkSession();
    }
  }

  private accessEndsWithSession(): boolean {
    return this.sessionExpiresAt - this.access.endsAt < 1000;
  }

  private async checkSession(): Promise<void> {
    if (this.reloading) return;
    this.reloading = true;
    const version = this.sessionVersion;
    let times: SessionTimes | undefined;
    try {
      times = await this.handlers.reloadSession();
    } catch {
      // The handler closes the connection on any failure; nothing is left to schedule.
      times = undefined;
    } finally {
      this.reloading = false;
    }
    if (times === undefined || this.stopped) return;
    if (version !== this.sessionVersion) return this.arm();
    const endsAt = Math.min(times.expiresAt, times.idleExpiresAt);
    if (endsAt !== this.session.endsAt) return this.setSession(times);
    if (!this.session.noticed && this.clock.now() >= this.session.noticeAt) {
      this.session.noticed = true;
      this.handlers.notice(this.session.reason, this.session.endsAt);
    }
    this.arm();
  }
}
