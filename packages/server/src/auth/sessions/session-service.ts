import type { AccessTokenClaims, ErrorCode } from '@tessera/protocol';
import { TesseraError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { uuidv7 } from '../../lib/ids.js';
import { andThen, type MaybePromise } from '../../lib/maybe-promise.js';
import type {
  AppRecord,
  NewReconnectTokenRow,
  NewSessionRow,
  Repositories,
  SessionRecord,
  UserRecord,
} from '../../store/repositories/index.js';
import type { AccessTokenService, IssuedAccessToken } from '../tokens/access-tokens.js';
import * as liveness from './liveness.js';
import type { ReconnectTokens, Renewal } from './reconnect-tokens.js';
import type { RevocationFeed, RevocationReason } from './revocations.js';
import type { CachedSession, SessionCache } from './session-cache.js';

/** Activity moves a session's idle expiry forward, but is written at most this often. */
export const TOUCH_INTERVAL_MS = 60_000;

/** Why `authenticate` refuses a token: for introspection, all mean the token is not active. */
const INACTIVE_TOKEN_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_token',
  'token_expired',
  'session_expired',
  'session_revoked',
  'user_disabled',
  'user_ended',
]);

export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

/** Who is calling, once an access token has been checked. */
export interface AuthContext {
  app: AppRecord;
  user: UserRecord;
  session: SessionRecord;
  claims: AccessTokenClaims;
}

export interface IssuedCredentials {
  session: SessionRecord;
  accessToken: string;
  accessTokenExpiresAt: number;
  reconnectToken: string;
  reconnectTokenExpiresAt: number;
}

/** A new session's rows and signed tokens, before they are written. */
interface PreparedSession {
  row: NewSessionRow;
  access: IssuedAccessToken;
  /** `token` is what the client is given; the row stores only a hash of its secret. */
  reconnect: { token: string; row: NewReconnectTokenRow };
}

export interface StartOptions<T> {
  /** The caller's writes, run first in the session's transaction: both commit or neither does. */
  alongside?: (repositories: Repositories) => Promise<T>;
  /** Ends the user's other live sessions in the same transaction, for this reason; told once it committed. */
  endingOthers?: RevocationReason;
}

export interface RevokeAllOptions {
  /** The caller's writes, run after the revocation in one transaction: both commit or neither does. */
  alongside?: (repositories: Repositories) => Promise<unknown>;
}

/**
 * Sessions: creating them with their tokens, checking them on every authenticated call,
 * sliding their idle expiry, and ending them. REST routes and the realtime gateway both
 * go through here.
 */
export class SessionService {
  constructor(
    private readonly repositories: Repositories,
    private readonly accessTokens: AccessTokenService,
    private readonly reconnectTokens: ReconnectTokens,
    private readonly cache: SessionCache,
    private readonly clock: Clock,
    private readonly revocations: RevocationFeed,
  ) {}

  /**
   * A new session with its first tokens; records the user's login. The session, its reconnect
   * token, the login stamp and what `options` add are written in one transaction: a login that
   * fails anywhere leaves no session behind, and no session without its reconnect token. The
   * tokens are signed before it: finding the signing key may read the store, through
   * repositories that a transaction on SQLite's one connection would keep waiting forever.
   */
  start(app: AppRecord, user: UserRecord, strategy: string, client: ClientInfo): Promise<IssuedCredentials>;
  start<T>(
    app: AppRecord,
    user: UserRecord,
    strategy: string,
    client: ClientInfo,
    options: StartOptions<T>,
  ): Promise<IssuedCredentials & { alongside: T }>;
  async start<T>(
    app: AppRecord,
    user: UserRecord,
    strategy: string,
    client: ClientInfo,
    options: StartOptions<T> = {},
  ): Promise<IssuedCredentials & { alongside?: T }> {
    const { row, access, reconnect } = await this.prepareStart(app, user, strategy, client);
    const { endingOthers } = options;
    const written = await this.repositories.transaction(async (repositories) => {
      const alongside = await options.alongside?.(repositories);
      const session = await repositories.sessions.insert(row);
      await repositories.sessions.insertReconnectToken(reconnect.row);
      await repositories.users.recordLogin(row.app_id, row.user_id, row.created_at);
      const ended =
        endingOthers === undefined
          ? []
          : await repositories.sessions.revokeAllOfUser(user.id, endingOthers, this.clock.now(), session.id);
      return { session, ended, alongside };
    });
    user.lastLoginAt = row.created_at;
    if (endingOthers !== undefined) await this.announceRevokedAll(user, written.ended, endingOthers);
    const credentials: IssuedCredentials = {
      session: written.session,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      reconnectToken: reconnect.token,
      reconnectTokenExpiresAt: reconnect.row.expires_at,
    };
    return options.alongside === undefined ? credentials : { ...credentials, alongside: written.alongside };
  }

  /** The rows and signed tokens of a new session, nothing written yet. */
  private async prepareStart(
    app: AppRecord,
    user: UserRecord,
    strategy: string,
    client: ClientInfo,
  ): Promise<PreparedSession> {
    const now = this.clock.now();
    const row: NewSessionRow = {
      id: uuidv7(now),
      app_id: app.id,
      user_id: user.id,
      strategy,
      created_at: now,
      last_seen_at: now,
      idle_expires_at: now + app.settings.sessionIdleTimeout * 1000,
      // A session never outlives its user (guests last a limited time).
      expires_at: Math.min(now + app.settings.sessionLifetime * 1000, user.expiresAt ?? Number.POSITIVE_INFINITY),
      user_agent: client.userAgent,
      ip: client.ip,
    };
    const access = await this.accessTokens.issue(app, {
      userId: user.id,
      sessionId: row.id,
      notAfter: row.expires_at,
      user,
    });
    const reconnect = this.reconnectTokens.first(app, { id: row.id, expiresAt: row.expires_at }, now);
    return { row, access, reconnect };
  }

  /**
   * New tokens for a live session; counts as activity on it. A session has one usable reconnect
   * token at a time: the new one supersedes the others. `renewal` is the token presented to ask
   * for these. A reconnect token (see `ReconnectTokens.check`) is spent here, in the same
   * transaction that writes its successor, so a failure half-way leaves it usable rather than
   * spent with no successor (which a retry would take for reuse). Duplicates of one renewal get
   * the same reconnect token (see `ReconnectTokens`); a reuse beyond the grace period ends the session.
   */
  async issue(app: AppRecord, user: UserRecord, session: SessionRecord, renewal?: Renewal): Promise<IssuedCredentials> {
    const now = this.clock.now();
    const access = await this.accessTokens.issue(app, {
      userId: user.id,
      sessionId: session.id,
      notAfter: session.expiresAt,
      user,
    });
    const idleExpiresAt = now + app.settings.sessionIdleTimeout * 1000;
    const touches = now > session.lastSeenAt;
    const reconnect = await this.repositories.transaction(async (repositories) => {
      const given = await this.reconnectTokens.renew(repositories, app, session, renewal, now);
      if (given !== undefined && touches) await repositories.sessions.touch(session.id, now, idleExpiresAt);
      return given;
    });
    if (reconnect === undefined) {
      await this.reconnectTokens.revokeForReuse(session, user);
      throw new TesseraError('reconnect_token_reused');
    }
    if (touches) this.touched(session, now, idleExpiresAt);
    return {
      session,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      reconnectToken: reconnect.token,
      reconnectTokenExpiresAt: reconnect.expiresAt,
    };
  }

  /**
   * Checks an access token and the session behind it; slides the idle expiry. Answers
   * synchronously when this node has verified the token before and holds a live view of its
   * session with no activity due to be written: the common case of a client's every request.
   */
  authenticate(app: AppRecord, accessToken: string): MaybePromise<AuthContext> {
    return andThen(this.accessTokens.verify(app, accessToken), (claims) => {
      const now = this.clock.now();
      const entry = this.cached(claims.sid, now);
      if (
        entry === undefined ||
        entry.session.idleExpiresAt <= now ||
        now - entry.session.lastSeenAt >= TOUCH_INTERVAL_MS
      ) {
        return this.authenticateFromStore(app, claims, entry, now);
      }
      return this.contextOf(app, claims, entry, now);
    });
  }

  /**
   * What an access token stands for now, for a backend's online check (token introspection):
   * checked as `authenticate` checks it, but not activity of the user, so the session is not
   * touched. Undefined for any token `authenticate` would refuse; the store's own failures throw.
   */
  async introspect(app: AppRecord, accessToken: string): Promise<AuthContext | undefined> {
    try {
      const claims = await this.accessTokens.verify(app, accessToken);
      const now = this.clock.now();
      let entry = this.cached(claims.sid, now);
      // As in authenticateFromStore: a cached end may predate activity on another node.
      if (entry === undefined || (entry.session.idleExpiresAt <= now && entry.loadedAt < now))
        entry = await this.load(claims.sid, app, now);
      return this.contextOf(app, claims, entry, now);
    } catch (error) {
      if (error instanceof TesseraError && INACTIVE_TOKEN_CODES.has(error.code)) return undefined;
      throw error;
    }
  }

  private async authenticateFromStore(
    app: AppRecord,
    claims: AccessTokenClaims,
    cached: CachedSession | undefined,
    now: number,
  ): Promise<AuthContext> {
    let entry = cached ?? (await this.load(claims.sid, app, now));
    // A cached view that says the session is over may predate activity on another node: ask the store.
    if (entry.session.idleExpiresAt <= now && entry.loadedAt < now) entry = await this.load(claims.sid, app, now);
    const context = this.contextOf(app, claims, entry, now);
    if (now - entry.session.lastSeenAt >= TOUCH_INTERVAL_MS) await this.touch(app, entry.session, now);
    return context;
  }

  private contextOf(app: AppRecord, claims: AccessTokenClaims, entry: CachedSession, now: number): AuthContext {
    if (entry.user.id !== claims.sub) throw new TesseraError('invalid_token');
    this.assertLive(app, entry.session, entry.user, now);
    return { app, user: entry.user, session: entry.session, claims };
  }

  /** Throws why `user` may not hold a session (disabled, ended), if it may not. */
  assertUserActive(user: UserRecord, now: number = this.clock.now()): void {
    liveness.assertUserActive(user, now);
  }

  /** Throws the error that says why a session may not be used, if it may not. */
  private assertLive(app: AppRecord, session: SessionRecord, user: UserRecord, now: number): void {
    // A view of a session that timed out is of no more use.
    if (liveness.sessionTimedOut(session, now)) this.cache.invalidateSession(session.id);
    liveness.assertSessionLive(app, session, user, now);
  }

  async list(user: UserRecord): Promise<SessionRecord[]> {
    return this.repositories.sessions.listLive(user.id, this.clock.now());
  }

  /** Ends one session of a user. Returns false when the user has no such live session. */
  async revoke(user: UserRecord, sessionId: string, reason: RevocationReason): Promise<boolean> {
    const session = await this.repositories.sessions.findById(sessionId);
    if (session === undefined || session.userId !== user.id) return false;
    const revoked = await this.repositories.sessions.revoke(sessionId, reason, this.clock.now());
    if (revoked) await this.revocations.announce(user, [sessionId], reason);
    return revoked;
  }

  /**
   * Ends every session of a user, but `exceptSessionId` when given. With `alongside`, the caller's
   * writes commit with it, and nobody hears of the end before they did (a rollback takes it back).
   */
  async revokeAll(
    user: UserRecord,
    reason: RevocationReason,
    exceptSessionId?: string,
    options: RevokeAllOptions = {},
  ): Promise<string[]> {
    const { alongside } = options;
    const now = this.clock.now();
    const write = (repositories: Repositories) =>
      repositories.sessions.revokeAllOfUser(user.id, reason, now, exceptSessionId);
    const sessionIds =
      alongside === undefined
        ? await write(this.repositories)
        : await this.repositories.transaction(async (repositories) => {
            const ended = await write(repositories);
            await alongside(repositories);
            return ended;
          });
    await this.announceRevokedAll(user, sessionIds, reason);
    return sessionIds;
  }

  /** A committed end of a user's sessions: this node forgets the user, and everyone hears of the sessions. */
  private async announceRevokedAll(user: UserRecord, sessionIds: string[], reason: RevocationReason): Promise<void> {
    this.cache.invalidateUser(user.id);
    if (sessionIds.length > 0) await this.revocations.announce(user, sessionIds, reason);
  }

  /**
   * Ends in the store every live session of `app` created before `before` (the kill switch, which
   * tells the other nodes itself) and forgets this node's cached sessions. Returns how many ended.
   */
  async revokeStartedBefore(app: AppRecord, before: number): Promise<number> {
    const revoked = await this.repositories.sessions.revokeStartedBefore(
      app.id,
      before,
      'revoked_before',
      this.clock.now(),
    );
    this.forgetCachedSessions();
    return revoked;
  }

  /** Forgets every cached session: after a kill switch, which is rare enough not to need an index by app. */
  forgetCachedSessions(): void {
    this.cache.clear();
  }

  /** Forget cached views of a user after its record changed, on every node (the revocation feed carries it). */
  userChanged(userId: string): Promise<void> {
    return this.revocations.userChanged(userId);
  }

  /**
   * A session's state re-read from the store, not the cache, for a holder of a long-lived
   * connection whose deadline came (the realtime gateway). Throws why the session may no longer
   * be used. It is not activity: the idle expiry does not move.
   */
  async reread(app: AppRecord, sessionId: string): Promise<{ session: SessionRecord; user: UserRecord }> {
    const now = this.clock.now();
    const { session, user } = await this.load(sessionId, app, now);
    this.assertLive(app, session, user, now);
    return { session, user };
  }

  /** The cached view, only while this node hears every other node's changes. */
  private cached(sessionId: string, now: number): CachedSession | undefined {
    return this.revocations.hearsEveryChange ? this.cache.get(sessionId, now) : undefined;
  }

  private async load(sessionId: string, app: AppRecord, now: number): Promise<CachedSession> {
    const generation = this.cache.generation;
    const entry = { ...(await liveness.readSession(this.repositories, app, sessionId)), loadedAt: now };
    // An invalidation heard while reading may be about what was just read: then it is not kept.
    if (this.revocations.hearsEveryChange) this.cache.set(entry, generation);
    return entry;
  }

  private async touch(app: AppRecord, session: SessionRecord, now: number): Promise<void> {
    const idleExpiresAt = now + app.settings.sessionIdleTimeout * 1000;
    await this.repositories.sessions.touch(session.id, now, idleExpiresAt);
    this.touched(session, now, idleExpiresAt);
  }

  /** The written activity, on the record callers (and the cache) hold. */
  private touched(session: SessionRecord, now: number, idleExpiresAt: number): void {
    session.lastSeenAt = now;
    session.idleExpiresAt = idleExpiresAt;
  }
}
