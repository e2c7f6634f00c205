import type { AuthenticationResult, User } from '@tessera/protocol';
import type { Cancel, Clock } from './clock.js';
import { credentialsOf, parse, serialize, type Credentials } from './credentials.js';
import { AuthenticationError, endsSession, TesseraError } from './errors.js';
import { Emitter } from './events.js';
import {
  reasonOf,
  type ClientEvents,
  type SessionEndReason,
  type SessionExpiredHandler,
  type SessionInfo,
} from './events-types.js';
import type { HttpTransport } from './http.js';
import type { Lock } from './locks.js';
import type { TokenStorage } from './storage.js';
import { reconnectTokenId, TabSync } from './tab-sync.js';

export interface SessionOptions {
  http: HttpTransport;
  key: string;
  storage: TokenStorage;
  storageKey: string;
  lock: Lock;
  clock: Clock;
  refreshAheadMs: number;
}

/** Internal events, beyond the public ones: the realtime connection follows the tokens. */
export interface SessionEvents extends ClientEvents {
  credentials: Credentials | null;
}

/** Whether an error leaves the held credentials unusable for good. */
export function unusable(error: unknown): error is TesseraError {
  return endsSession(error) || (error instanceof TesseraError && error.code === 'invalid_token');
}

/** The access token ends with the session's absolute lifetime: no refresh can extend it. */
function endsWithSession(credentials: Credentials): boolean {
  return credentials.accessTokenExpiresAt >= credentials.session.expiresAt - 1000;
}

export function sessionInfo(credentials: Credentials): SessionInfo {
  const iso = (time: number) => new Date(time).toISOString();
  return {
    id: credentials.session.id,
    strategy: credentials.strategy,
    expiresAt: iso(credentials.session.expiresAt),
    idleExpiresAt: iso(credentials.session.idleExpiresAt),
  };
}

/**
 * Holds the client's credentials: loads them from storage, writes every change back, refreshes
 * the access token ahead of its expiry and on demand (once at a time, across tabs), and runs
 * authenticated calls with one refresh-and-retry and the app's session-expired handler.
 */
export class SessionManager {
  readonly events = new Emitter<SessionEvents>();
  private credentials: Credentials | null = null;
  /** Counts changes, so that a slow first load never overwrites a newer login. */
  private version = 0;
  private refreshing: Promise<Credentials> | undefined;
  private recovering: Promise<boolean> | undefined;
  private expiredHandler: SessionExpiredHandler | undefined;
  private cancelRefresh: Cancel | undefined;
  /** An authenticated call happened since the last refresh: keep the tokens fresh in the background. */
  private active = false;
  /** Holders (a realtime connection) that need fresh tokens whether or not calls happen. */
  private keepers = 0;
  private readonly stopWatching: (() => void) | undefined;
  private readonly lockName: string;
  /** Rotation news from other tabs, for a storage that tabs share (one that can tell of changes). */
  private readonly sync: TabSync | undefined;

  constructor(private readonly options: SessionOptions) {
    this.lockName = `tessera:${options.storageKey}`;
    this.stopWatching = options.storage.subscribe?.(options.storageKey, () => void this.reload());
    if (options.storage.subscribe !== undefined && typeof BroadcastChannel !== 'undefined') {
      this.sync = new TabSync(options.storageKey, (fromTokenId, next) => {
        // Another tab rotated the tokens this client holds: take the new ones at once.
        if (this.credentials !== null && reconnectTokenId(this.credentials.reconnectToken) === fromTokenId)
          this.set(next);
      });
    }
  }

  /**
   * The credentials held; while none are, read from storage each time (at the first call after
   * a reload, and after a login in another tab or process sharing the storage).
   */
  async current(): Promise<Credentials | null> {
    if (this.credentials !== null) return this.credentials;
    const version = this.version;
    const stored = await this.read();
    if (this.version === version && stored !== null) this.set(stored);
    return this.credentials;
  }

  /** The credentials held now, without waiting for storage. */
  get held(): Credentials | null {
    return this.credentials;
  }

  onExpired(handler: SessionExpiredHandler | undefined): void {
    this.expiredHandler = handler;
  }

  /** Keeps tokens fresh in the background while the returned function has not been called. */
  keepFresh(): () => void {
    this.keepers += 1;
    let released = false;
    return () => {
      if (!released) this.keepers -= 1;
      released = true;
    };
  }

  /** A new session from a login that spent nothing: write it, then hold it. */
  async establish(result: AuthenticationResult): Promise<Credentials> {
    return this.rotate(async () => result);
  }

  /**
   * Runs a call that spends or supersedes the tokens (a reconnect token, an upgrade, an in-band
   * authentication) under the lock, and keeps what it answers. The call gets the credentials
   * as the storage holds them under the lock: another tab may have rotated them since.
   */
  async rotate(call: (stored: Credentials | null) => Promise<AuthenticationResult>): Promise<Credentials> {
    const credentials = await this.options.lock.run(this.lockName, async () => {
      const stored = await this.read();
      return this.announced(stored?.reconnectToken, async () =>
        credentialsOf(await call(stored), this.options.clock.now()),
      );
    });
    this.set(credentials);
    return credentials;
  }

  /** Runs a rotation from `token` (under the lock), writes its result, and tells the other tabs. */
  private async announced(token: string | undefined, rotation: () => Promise<Credentials>): Promise<Credentials> {
    this.sync?.rotating(token);
    let next: Credentials | undefined;
    try {
      next = await rotation();
      await this.options.storage.setItem(this.options.storageKey, serialize(next));
      return next;
    } finally {
      this.sync?.rotated(token, next);
    }
  }

  /** Fresh credentials: the held ones, refreshed first when they expire soon. Throws when there are none. */
  async fresh(): Promise<Credentials> {
    const credentials = await this.current();
    if (credentials === null)
      throw new AuthenticationError('missing_credentials', {
        message: 'Not logged in: call connect() or another login first.',
      });
    return this.expiresSoon(credentials) ? this.refresh(credentials) : credentials;
  }

  /**
   * New tokens in place of `stale`, spending its reconnect token: once at a time in this
   * client, and under the lock across tabs. When another tab or client already refreshed, its
   * tokens are taken from the storage instead, and nothing is spent.
   */
  refresh(stale: Credentials, force = false): Promise<Credentials> {
    const held = this.credentials;
    if (!force && held !== null && held.accessToken !== stale.accessToken && !this.expiresSoon(held))
      return Promise.resolve(held);
    this.refreshing ??= this.refreshUnderLock(stale).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * Runs an authenticated call: with fresh credentials, refreshing and retrying once if the
   * server says the access token expired, and handing a session that is over to the app's
   * session-expired handler, whose `retry()` runs the call once more.
   */
  async authorized<T>(call: (accessToken: string) => Promise<T>, recover = true): Promise<T> {
    this.active = true;
    for (let recovered = false; ; recovered = true) {
      const held = await this.current();
      if (held === null)
        throw new AuthenticationError('missing_credentials', {
          message: 'Not logged in: call connect() or another login first.',
        });
      let used = held;
      try {
        if (this.expiresSoon(used)) used = await this.refresh(used);
        try {
          return await call(used.accessToken);
        } catch (error) {
          // An expired access token, or one the server no longer accepts (its signing key or
          // issuer changed), is replaced once with the reconnect token.
          if (!(error instanceof TesseraError && (error.code === 'token_expired' || error.code === 'invalid_token')))
            throw error;
          used = await this.refresh(used);
          return await call(used.accessToken);
        }
      } catch (error) {
        if (!unusable(error)) throw error;
        await this.end(used, reasonOf(error), error);
        if (!recover || recovered || !(await this.recover(error, used))) throw error;
      }
    }
  }

  /**
   * The session is over (learnt from an error or a realtime close): forget it here and in
   * the storage (unless the storage already holds another session), and say why.
   */
  async end(ended: Credentials, reason: SessionEndReason, error?: TesseraError, detail?: string): Promise<void> {
    const { storage, storageKey } = this.options;
    await this.options.lock.run(this.lockName, async () => {
      const stored = parse(await storage.getItem(storageKey));
      if (stored === null || stored.session.id === ended.session.id) await storage.removeItem(storageKey);
    });
    if (this.credentials?.session.id !== ended.session.id) return;
    this.set(null);
    const why = detail ?? ((error?.details as { reason?: unknown } | undefined)?.reason as string | undefined);
    this.events.emit('sessionEnded', {
      reason,
      sessionId: ended.session.id,
      ...(error === undefined ? {} : { error }),
      ...(typeof why === 'string' ? { detail: why } : {}),
    });
  }

  /**
   * Asks the app's handler what to do about a session that is over: resolves true when it
   * called `retry()`. Concurrent failures share one handler call.
   */
  recover(error: TesseraError, failed: Credentials): Promise<boolean> {
    // The handler, called for another failure, has already logged in again.
    if (this.credentials !== null && this.credentials.session.id !== failed.session.id) return Promise.resolve(true);
    const handler = this.expiredHandler;
    if (handler === undefined) return Promise.resolve(false);
    this.recovering ??= new Promise<boolean>((resolve) => {
      let decided = false;
      const decide = (retry: boolean) => {
        if (!decided) resolve(retry);
        decided = true;
      };
      try {
        const outcome = handler({
          reason: reasonOf(error),
          error,
          retry: () => decide(true),
          fail: () => decide(false),
        });
        // An async handler that ends without retry() has given up.
        if (outcome instanceof Promise)
          outcome.then(
            () => decide(false),
            () => decide(false),
          );
      } catch {
        decide(false);
      }
    }).finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  /** Resolves once no rotation holds the lock (e.g. an upgrade whose answer is still on its way). */
  async settled(): Promise<void> {
    await this.options.lock.run(this.lockName, async () => undefined);
  }

  /** Keeps a changed user record with the session, here and in storage. */
  async updateUser(user: User): Promise<void> {
    const { storage, storageKey } = this.options;
    const updated = await this.options.lock.run(this.lockName, async () => {
      const stored = await this.read();
      if (stored === null || stored.user.id !== user.id) return null;
      const next = { ...stored, user };
      await storage.setItem(storageKey, serialize(next));
      return next;
    });
    if (updated !== null && this.credentials?.session.id === updated.session.id) this.set(updated);
  }

  /** Forgets the session here and in storage, without telling the server (logout() tells it first). */
  async forget(reason: SessionEndReason): Promise<void> {
    const credentials = await this.current();
    if (credentials !== null) await this.end(credentials, reason);
  }

  /** Stops timers and storage watching. */
  dispose(): void {
    this.cancelRefresh?.();
    this.stopWatching?.();
    this.sync?.close();
  }

  private expiresSoon(credentials: Credentials): boolean {
    return this.options.clock.now() >= this.refreshTime(credentials);
  }

  /**
   * When to refresh: `refreshAheadMs` before expiry, but no earlier than half the token's
   * life (a 30-second token is not "expiring" as soon as it is issued). A token that ends with
   * its session cannot be extended: refreshing it early would only spend reconnect tokens.
   */
  private refreshTime(credentials: Credentials): number {
    if (endsWithSession(credentials)) return credentials.accessTokenExpiresAt;
    const lifetime = credentials.accessTokenExpiresAt - credentials.accessTokenIssuedAt;
    return credentials.accessTokenExpiresAt - Math.min(this.options.refreshAheadMs, Math.max(0, lifetime / 2));
  }

  private async read(): Promise<Credentials | null> {
    return parse(await this.options.storage.getItem(this.options.storageKey));
  }

  private async refreshUnderLock(stale: Credentials): Promise<Credentials> {
    const { http, key, clock } = this.options;
    const outcome = await this.options.lock.run(this.lockName, async (): Promise<Credentials | TesseraError> => {
      let stored = await this.read();
      // Logged out in another tab: there is nothing left to refresh.
      if (stored === null) return new AuthenticationError('session_revoked', { details: { reason: 'logout' } });
      // The storage may not show yet what another tab just rotated this token into.
      if (stored.reconnectToken === stale.reconnectToken)
        stored = (await this.sync?.successorOf(stored.reconnectToken)) ?? stored;
      // Another tab or client refreshed (or logged in) meanwhile: take its tokens, spend nothing.
      if (stored.reconnectToken !== stale.reconnectToken && !this.expiresSoon(stored)) return stored;
      const token = stored.reconnectToken;
      try {
        return await this.announced(token, async () =>
          credentialsOf(
            await http.request<AuthenticationResult>('POST', '/authentication', {
              key,
              body: { strategy: 'reconnect', token },
            }),
            clock.now(),
          ),
        );
      } catch (error) {
        if (unusable(error)) return error;
        throw error;
      }
    });
    if (outcome instanceof TesseraError) {
      await this.end(stale, reasonOf(outcome), outcome);
      throw outcome;
    }
    this.set(outcome);
    return outcome;
  }

  /** Another tab changed the storage: follow it. */
  private async reload(): Promise<void> {
    const stored = await this.read();
    const held = this.credentials;
    if (stored === null) {
      if (held !== null) {
        this.set(null);
        this.events.emit('sessionEnded', { reason: 'logged_out', sessionId: held.session.id });
      }
    } else if (held === null || stored.accessToken !== held.accessToken) {
      this.set(stored);
    }
  }

  /** Holds `next` and tells whoever listens what changed. */
  private set(next: Credentials | null): void {
    const previous = this.credentials;
    this.version += 1;
    this.credentials = next;
    this.schedule(next);
    this.events.emit('credentials', next);
    if (next === null) return;
    const session = sessionInfo(next);
    if (previous?.session.id !== next.session.id) this.events.emit('authenticated', { user: next.user, session });
    else if (previous.accessToken !== next.accessToken) {
      this.events.emit('refreshed', {
        accessToken: next.accessToken,
        accessTokenExpiresAt: new Date(next.accessTokenExpiresAt).toISOString(),
        session,
      });
    }
    if (previous !== null && previous.user.id === next.user.id && previous.user.updatedAt !== next.user.updatedAt)
      this.events.emit('userUpdated', next.user);
  }

  /** Refreshes ahead of expiry, if the tokens are in use (a call since the last refresh, or a realtime connection). */
  private schedule(credentials: Credentials | null): void {
    this.cancelRefresh?.();
    this.cancelRefresh = undefined;
    if (credentials === null || endsWithSession(credentials)) return;
    this.cancelRefresh = this.options.clock.at(this.refreshTime(credentials), () => {
      if (!this.active && this.keepers === 0) return;
      this.active = false;
      this.refresh(credentials).catch(() => {
        // A failed background refresh is retried by the next call, or has ended the session and said so.
      });
    });
  }
}
