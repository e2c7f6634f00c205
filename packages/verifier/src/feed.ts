import type { AppEvent, EventStreamReady } from '@tessera/protocol';
import { VerifierError } from './errors.js';
import { EventStream, type FeedStatus } from './event-stream.js';
import { IntrospectionCache } from './introspection.js';
import type { Principal } from './principal.js';
import type { RevocationCode, RevocationListener } from './revocation.js';
import { RevokedSet } from './revoked-set.js';
import { realTimeline, type Timeline } from './timeline.js';

/**
 * Tessera's revocation feed, which the verifier subscribes to when it has a secret key; every
 * setting has a default. See docs/verifier.md, "Revocation feed".
 *
 * @example
 * ```ts
 * createVerifier({
 *   url: 'http://tessera:3000',
 *   app: 'acme/chat',
 *   secretKey: process.env.TESSERA_SECRET_KEY, // scope sessions:read
 *   feed: { graceMs: 10_000, onOutage: 'fail-closed', onError: (error) => logger.warn(error.message) },
 * });
 * ```
 */
export interface FeedOptions {
  /** How long the feed may be down before `onOutage` applies; default 30 000. Within it, tokens are checked offline. */
  graceMs?: number;
  /**
   * What `verify` does once the feed has been down for longer than `graceMs`: `'introspect'`
   * (default) asks Tessera about each token (`POST …/introspect`), answers kept
   * `introspectionCacheMs`; `'fail-closed'` refuses every token with `unavailable`.
   */
  onOutage?: 'introspect' | 'fail-closed';
  /** How long an introspection answer is reused for the same token; default 5 000. */
  introspectionCacheMs?: number;
  /** How long an introspection request may take; default 5 000. */
  introspectionTimeoutMs?: number;
  /** Without any byte for this long the stream is taken for dead and reconnected; default 45 000 (keep-alives come every 15 s). */
  silenceMs?: number;
  /** Reconnection backoff: a random delay between half and all of min(`maxMs`, `initialMs` × 2^attempt); defaults 500 and 30 000. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How often revocations whose tokens have all expired are forgotten; default 30 000. */
  sweepIntervalMs?: number;
  /**
   * Told of each problem of the feed: the stream lost or refused (`forbidden`,
   * `invalid_api_key`: a configuration error), an unreadable event, a listener that threw.
   * Default: `console.warn` of the code and message (never the key).
   */
  onError?: (error: VerifierError) => void;
  /** Elapsed time for the feed's timers; default real (monotonic) time. Tests pass a clock they move. */
  timeline?: Timeline;
}

export interface FeedContext {
  /** `{url}/v1/apps/{ns}/{app}`. */
  appUrl: string;
  secretKey: string;
  /** Business time (the verifier's `now`): what `iat`, `at` and `tokensExpireBy` are compared with. */
  now: () => number;
  /** Clock tolerance in milliseconds: a token issued this close after a watermark is checked online too. */
  toleranceMs: number;
  forgetUser(userId: string): void;
  reloadKeys(): Promise<void>;
}

/** Tessera's longest access-token lifetime (`accessTokenTtl` at most a day). */
const MAX_TOKEN_LIFETIME_MS = 86_400_000;

/** Sessions confirmed online after the watermark, at most this many (then they are forgotten and asked again). */
const MAX_CONFIRMED = 100_000;

/**
 * The revocation feed: the event stream, the revoked set it fills, the listeners it tells,
 * and the online checks for what the stream cannot vouch for.
 *
 * `watermark` is the (business) time of the first `ready`, and of any `ready` with `gap`: a
 * session ended before it may never have been heard of, so a token issued before it passes only
 * once Tessera confirmed its session online after it (`confirmed`, by session, until the token
 * expires). Before the first `ready`, every token is checked online.
 */
export class RevocationFeed {
  private readonly stream: EventStream;
  private readonly revoked: RevokedSet;
  private readonly introspection: IntrospectionCache;
  private readonly listeners = new Set<RevocationListener>();
  private readonly confirmed = new Map<string, number>();
  private readonly timeline: Timeline;
  private readonly graceMs: number;
  private readonly policy: 'introspect' | 'fail-closed';
  private readonly onError: (error: VerifierError) => void;
  private watermark: number | undefined;
  /** Moves with the watermark: a confirmation asked before it does not count after it. */
  private epoch = 0;
  /** When (on the timeline) the stream stopped being live; `undefined` while it is. */
  private downSince: number | undefined;
  private waiters: { resolve: () => void; reject: (error: VerifierError) => void }[] = [];
  private refusal: VerifierError | undefined;
  private cancelSweep: () => void = () => {};

  constructor(
    private readonly context: FeedContext,
    options: FeedOptions = {},
  ) {
    this.timeline = options.timeline ?? realTimeline();
    this.graceMs = options.graceMs ?? 30_000;
    this.policy = options.onOutage ?? 'introspect';
    this.onError =
      options.onError ?? ((error) => console.warn(`@tessera/verifier feed: ${error.code}: ${error.message}`));
    this.downSince = this.timeline.now();
    this.revoked = new RevokedSet(context.now, context.toleranceMs);
    this.introspection = new IntrospectionCache(
      {
        url: `${context.appUrl}/introspect`,
        secretKey: context.secretKey,
        timeoutMs: options.introspectionTimeoutMs ?? 5_000,
      },
      this.timeline,
      options.introspectionCacheMs ?? 5_000,
    );
    this.stream = new EventStream({
      url: `${context.appUrl}/events`,
      secretKey: context.secretKey,
      timeline: this.timeline,
      silenceMs: options.silenceMs ?? 45_000,
      initialBackoffMs: options.backoff?.initialMs ?? 500,
      maxBackoffMs: options.backoff?.maxMs ?? 30_000,
      random: Math.random,
      onReady: (ready) => this.ready(ready),
      onEvent: (event) => this.apply(event),
      onStatus: (status) => this.statusChanged(status),
      onError: (error) => this.report(error),
    });
    this.stream.start();
    this.scheduleSweep(options.sweepIntervalMs ?? 30_000);
  }

  get status(): FeedStatus {
    return this.stream.status;
  }

  get revokedCount(): number {
    return this.revoked.size;
  }

  /** Resolves once the stream has said `ready`; rejects when Tessera refuses the key, or on `close()`. */
  whenReady(): Promise<void> {
    if (this.watermark !== undefined) return Promise.resolve();
    if (this.status === 'closed')
      return Promise.reject(new VerifierError('unavailable', { message: 'The verifier is closed.' }));
    if (this.status === 'refused' && this.refusal !== undefined) return Promise.reject(this.refusal);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Throws the {@link VerifierError} that refuses `principal`'s token, if the feed knows one;
   * answers a promise only when Tessera must be asked (the stream cannot vouch for the token).
   */
  check(principal: Principal, token: string): Promise<void> | undefined {
    this.refuseRevoked(principal);
    const outage = this.downSince !== undefined && this.timeline.now() - this.downSince >= this.graceMs;
    if (outage && this.policy === 'fail-closed')
      throw new VerifierError('unavailable', {
        message: 'The revocation feed has been down for longer than its grace period.',
      });
    if (!outage && !this.needsConfirmation(principal)) return undefined;
    return this.checkOnline(principal, token);
  }

  private async checkOnline(principal: Principal, token: string): Promise<void> {
    const epoch = this.epoch;
    if (!(await this.introspection.active(token)))
      throw new VerifierError(principal.expiresAt <= this.context.now() ? 'token_expired' : 'session_revoked');
    if (epoch === this.epoch && this.watermark !== undefined) this.confirm(principal);
    // An event may have arrived while Tessera was asked.
    this.refuseRevoked(principal);
  }

  close(): void {
    this.stream.close();
    this.cancelSweep();
    this.introspection.clear();
    this.settleWaiters(new VerifierError('unavailable', { message: 'The verifier is closed.' }));
  }

  private refuseRevoked(principal: Principal): void {
    const code = this.revoked.refusal(principal.sessionId, principal.userId, principal.issuedAt);
    if (code !== undefined) throw new VerifierError(code);
  }

  private needsConfirmation(principal: Principal): boolean {
    if (this.watermark === undefined) return true;
    return principal.issuedAt < this.watermark + this.context.toleranceMs && !this.confirmed.has(principal.sessionId);
  }

  private confirm(principal: Principal): void {
    if (this.confirmed.size >= MAX_CONFIRMED) this.confirmed.clear();
    const known = this.confirmed.get(principal.sessionId) ?? 0;
    this.confirmed.set(principal.sessionId, Math.max(known, principal.expiresAt));
  }

  private ready(ready: EventStreamReady): void {
    this.refusal = undefined;
    if (this.watermark === undefined || ready.gap) {
      this.watermark = this.context.now();
      this.epoch += 1;
      this.confirmed.clear();
      // Answers given before the watermark vouch for nothing after it.
      this.introspection.clear();
    }
    this.settleWaiters();
  }

  private apply(event: AppEvent): void {
    switch (event.type) {
      case 'session.ended': {
        const code: RevocationCode = event.reason === 'user_disabled' ? 'user_disabled' : 'session_revoked';
        const until = this.expiryOf(event.tokensExpireBy);
        for (const sessionId of event.sessionIds) {
          this.revoked.addSession(sessionId, code, until);
          this.emit({ userId: event.userId, sessionId, code });
        }
        return;
      }
      case 'user.disabled':
      case 'user.deleted': {
        const code: RevocationCode = event.type === 'user.disabled' ? 'user_disabled' : 'session_revoked';
        const at = Date.parse(event.at);
        const until = this.expiryOf(event.tokensExpireBy);
        this.revoked.addUser(event.userId, { code, at: Number.isNaN(at) ? this.context.now() : at, until });
        this.context.forgetUser(event.userId);
        this.emit({ userId: event.userId, code });
        return;
      }
      case 'user.enabled':
        this.revoked.removeUser(event.userId);
        return;
      case 'user.changed':
        this.context.forgetUser(event.userId);
        return;
      case 'signing_key.rotated':
        this.context.reloadKeys().catch((cause: unknown) =>
          this.report(
            new VerifierError('unavailable', {
              message: "The app's keys could not be fetched after a rotation.",
              cause,
            }),
          ),
        );
        return;
      default:
        // A type this version does not know: later Tessera versions may add some.
        return;
    }
  }

  /** An event's `tokensExpireBy`; an unreadable one (never from Tessera) holds the entry for the longest token lifetime. */
  private expiryOf(tokensExpireBy: string): number {
    const until = Date.parse(tokensExpireBy);
    return Number.isNaN(until) ? this.context.now() + MAX_TOKEN_LIFETIME_MS : until;
  }

  private emit(revocation: Parameters<RevocationListener>[0]): void {
    for (const listener of this.listeners) {
      try {
        listener(revocation);
      } catch (cause) {
        this.report(new VerifierError('internal_error', { message: 'An onRevoked listener threw.', cause }));
      }
    }
  }

  private statusChanged(status: FeedStatus): void {
    if (status === 'live') this.downSince = undefined;
    else this.downSince ??= this.timeline.now();
  }

  private report(error: VerifierError): void {
    if (this.stream.status === 'refused' && this.watermark === undefined) {
      this.refusal = error;
      this.settleWaiters(error);
    }
    try {
      this.onError(error);
    } catch {
      // The app's own callback failed: nothing left to tell.
    }
  }

  private settleWaiters(error?: VerifierError): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters)
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
  }

  private scheduleSweep(intervalMs: number): void {
    const sweep = () => {
      this.revoked.sweep();
      const now = this.context.now();
      for (const [sessionId, until] of this.confirmed) if (until <= now) this.confirmed.delete(sessionId);
      this.cancelSweep = this.timeline.at(this.timeline.now() + intervalMs, sweep);
    };
    this.cancelSweep = this.timeline.at(this.timeline.now() + intervalMs, sweep);
  }
}
