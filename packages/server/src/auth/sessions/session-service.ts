import type { AccessTokenClaims } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { ClusterBus } from '../../cluster/index.js';
import { TesseraError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { settledWithin } from '../../lib/deadline.js';
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
import type { PresentedReconnectToken, ReconnectTokens, Renewal } from './reconnect-tokens.js';
import type { CachedSession, SessionCache } from './session-cache.js';

/** Activity moves a session's idle expiry forward, but is written at most this often. */
export const TOUCH_INTERVAL_MS = 60_000;

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

/** A new session's rows and signed tokens, before they are written (see `SessionService.prepareStart`). */
export interface PreparedSession {
  row: NewSessionRow;
  access: IssuedAccessToken;
  /** `token` is what the client is given; the row stores only a hash of its secret. */
  reconnect: { token: string; row: NewReconnectTokenRow };
}

export type RevocationReason =
  | 'logout'
  | 'revoked'
  | 'password_changed'
  | 'user_disabled'
  | 'user_deleted'
  | 'reconnect_token_reused'
  | 'user_upgraded'
  | 'user_ended'
  | 'revoked_before';

export interface RevocationEvent {
  appId: string;
  userId: string;
  sessionIds: string[];
  reason: RevocationReason;
}

/** Sessions a write ended, to announce once that write committed (see `SessionService.writeRevokeAll`). */
export interface Revocation {
  user: UserRecord;
  sessionIds: string[];
  reason: RevocationReason;
}

/** A listener that returns a promise is awaited before the revoking call returns. */
export type RevocationListener = (event: RevocationEvent) => void | Promise<void>;

/** The bus channel of session events between nodes. */
export const SESSION_CHANNEL = 'sessions';

/** What one node tells the others about sessions: they drop their cached views and close sockets. */
type SessionMessage =
  { type: 'revoked'; node: string; event: RevocationEvent } | { type: 'user_changed'; node: string; userId: string };

/**
 * Sessions: creating them with their tokens, checking them on every authenticated call,
 * sliding their idle expiry, and ending them. REST routes and the realtime gateway both
 * go through here.
 */
export class SessionService {
  private readonly listeners = new Set<RevocationListener>();
  private readonly clusterListeners = new Set<(event: RevocationEvent) => void>();

  constructor(
    private readonly repositories: Repositories,
    private readonly accessTokens: AccessTokenService,
    private readonly reconnectTokens: ReconnectTokens,
    private readonly cache: SessionCache,
    private readonly clock: Clock,
    private readonly bus: ClusterBus,
    private readonly logger: Logger,
  ) {
    bus.subscribe(SESSION_CHANNEL, (message) => this.heard(message));
    // Messages sent while the link was down are lost: nothing cached before or during the gap can be trusted.
    bus.onLinkChange(() => this.cache.clear());
  }

  /**
   * Called once per revocation, on the node that made it, and awaited (ending anonymous users
   * happens there, once for the cluster).
   */
  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called on every node for every revocation in the cluster, this node's at once and the
   * others' as they arrive: the realtime gateway closes the sockets it holds for them.
   */
  onRevokedInCluster(listener: (event: RevocationEvent) => void): () => void {
    this.clusterListeners.add(listener);
    return () => this.clusterListeners.delete(listener);
  }

  /**
   * A new session with its first tokens; records the user's login. The session, its reconnect
   * token and the login stamp are written in one transaction: a login that fails anywhere leaves
   * no session behind, and no session without its reconnect token.
   */
  async start(app: AppRecord, user: UserRecord, strategy: string, client: ClientInfo): Promise<IssuedCredentials> {
    const prepared = await this.prepareStart(app, user, strategy, client);
    const credentials = await this.writeStart(this.repositories, prepared);
    user.lastLoginAt = prepared.row.created_at;
    return credentials;
  }

  /**
   * The rows and signed tokens of a new session, nothing written yet. Made before any
   * transaction: finding the signing key may read the store, through repositories that a
   * transaction on SQLite's one connection would keep waiting forever.
   */
  async prepareStart(app: AppRecord, user: UserRecord, strategy: string, client: ClientInfo): Promise<PreparedSession> {
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
    const access = await this.accessTokens.issue(app, { userId: user.id, sessionId: row.id, notAfter: row.expires_at });
    const reconnect = this.reconnectTokens.first(app, { id: row.id, expiresAt: row.expires_at }, now);
    return { row, access, reconnect };
  }

  /**
   * Writes a prepared session, its reconnect token and the login stamp in one transaction: the
   * caller's when `repositories` are a transaction's (an upgrade commits it with the user's change).
   */
  async writeStart(
    repositories: Repositories,
    { row, access, reconnect }: PreparedSession,
  ): Promise<IssuedCredentials> {
    const session = await repositories.transaction(async (transaction) => {
      const inserted = await transaction.sessions.insert(row);
      await transaction.sessions.insertReconnectToken(reconnect.row);
      await transaction.users.recordLogin(row.app_id, row.user_id, row.created_at);
      return inserted;
    });
    return {
      session,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      reconnectToken: reconnect.token,
      reconnectTokenExpiresAt: reconnect.row.expires_at,
    };
  }

  /**
   * New tokens for a live session; counts as activity on it. A session has one usable reconnect
   * token at a time: the new one supersedes the others. `renewal` is the token presented to ask
   * for these. A reconnect token (see `checkReconnectToken`) is spent here, in the same
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
    });
    const idleExpiresAt = now + app.settings.sessionIdleTimeout * 1000;
    const touches = now > session.lastSeenAt;
    const reconnect = await this.repositories.transaction(async (repositories) => {
      const given = await this.reconnectTokens.renew(repositories, app, session, renewal, now);
      if (given !== undefined && touches) await repositories.sessions.touch(session.id, now, idleExpiresAt);
      return given;
    });
    if (reconnect === undefined) {
      await this.revokeForReuse(session, user);
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

  assertUserActive(user: UserRecord, now: number = this.clock.now()): void {
    if (user.disabledAt !== null) throw new TesseraError('user_disabled');
    // An ephemeral user that ended (anonymous) or outlived its lifetime (guest) is over for good.
    if (user.endedAt !== null || (user.expiresAt !== null && user.expiresAt <= now))
      throw new TesseraError('user_ended');
  }

  /** Throws the error that says why a session may not be used, if it may not. */
  assertLive(app: AppRecord, session: SessionRecord, user: UserRecord, now: number = this.clock.now()): void {
    // A disabled user's sessions are revoked too; the user's state is the more useful answer.
    this.assertUserActive(user, now);
    if (session.revokedAt !== null)
      throw new TesseraError('session_revoked', { details: { reason: session.revokedReason } });
    // Also a session the kill switch's sweep did not see (its login was being written meanwhile).
    if (app.sessionsRevokedBefore !== null && session.createdAt < app.sessionsRevokedBefore) {
      throw new TesseraError('session_revoked', { details: { reason: 'revoked_before' satisfies RevocationReason } });
    }
    if (session.expiresAt <= now || session.idleExpiresAt <= now) {
      this.cache.invalidateSession(session.id);
      throw new TesseraError('session_expired');
    }
  }

  async list(user: UserRecord): Promise<SessionRecord[]> {
    return this.repositories.sessions.listLive(user.id, this.clock.now());
  }

  /** Ends one session of a user. Returns false when the user has no such live session. */
  async revoke(user: UserRecord, sessionId: string, reason: RevocationReason): Promise<boolean> {
    const session = await this.repositories.sessions.findById(sessionId);
    if (session === undefined || session.userId !== user.id) return false;
    const revoked = await this.repositories.sessions.revoke(sessionId, reason, this.clock.now());
    if (revoked) await this.announce(user, [sessionId], reason);
    return revoked;
  }

  /** Ends every session of a user, but `exceptSessionId` when given. */
  async revokeAll(user: UserRecord, reason: RevocationReason, exceptSessionId?: string): Promise<string[]> {
    const revocation = await this.writeRevokeAll(this.repositories, user, reason, exceptSessionId);
    await this.announceRevocation(revocation);
    return revocation.sessionIds;
  }

  /**
   * The write of `revokeAll` alone, with a caller's transaction. Nobody is told yet: the caller
   * passes the result to `announceRevocation` once the transaction committed, so that no node and
   * no socket hears of an end that a rollback takes back.
   */
  async writeRevokeAll(
    repositories: Repositories,
    user: UserRecord,
    reason: RevocationReason,
    exceptSessionId?: string,
  ): Promise<Revocation> {
    const sessionIds = await repositories.sessions.revokeAllOfUser(user.id, reason, this.clock.now(), exceptSessionId);
    return { user, sessionIds, reason };
  }

  /** Tells this node's cache, the other nodes and the listeners of sessions a committed write ended. */
  async announceRevocation({ user, sessionIds, reason }: Revocation): Promise<void> {
    this.cache.invalidateUser(user.id);
    if (sessionIds.length > 0) await this.announce(user, sessionIds, reason);
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

  /**
   * Forget cached views of a user after its record changed (profile, disabled flag), on every
   * node; resolves once the other nodes were told (see `tell`).
   */
  async userChanged(userId: string): Promise<void> {
    this.cache.invalidateUser(userId);
    await this.tell({ type: 'user_changed', node: this.bus.nodeId, userId });
  }

  /**
   * A session's state read from the store, not the cache, for a holder of a long-lived
   * connection whose deadline came (the realtime gateway). Throws why the session may no longer
   * be used. It is not activity: the idle expiry does not move.
   */
  async current(app: AppRecord, sessionId: string): Promise<{ session: SessionRecord; user: UserRecord }> {
    const now = this.clock.now();
    const { session, user } = await this.load(sessionId, app, now);
    this.assertLive(app, session, user, now);
    return { session, user };
  }

  /** Whose session a reconnect token would resume, without spending it; undefined when it is not a valid token. */
  async reconnectTokenOwner(token: string): Promise<{ appId: string; userId: string; sessionId: string } | undefined> {
    const found = await this.reconnectTokens.find(this.repositories, token);
    const session = found && (await this.repositories.sessions.findById(found.record.sessionId));
    return session === undefined ? undefined : { appId: session.appId, userId: session.userId, sessionId: session.id };
  }

  /**
   * The session a reconnect token resumes, if the token may resume it; `issue` spends it. A spent
   * token presented again ends its session (RFC 9700 §4.14.2), unless it is a duplicate: within
   * the app's grace period, while its successor is unused (see `ReconnectTokens`).
   */
  async checkReconnectToken(
    app: AppRecord,
    token: string,
  ): Promise<{ session: SessionRecord; user: UserRecord; presented: PresentedReconnectToken }> {
    const now = this.clock.now();
    const found = await this.reconnectTokens.find(this.repositories, token);
    if (found === undefined) throw new TesseraError('invalid_token', { message: 'The reconnect token is not valid.' });
    const { session, user } = await this.load(found.record.sessionId, app, now);
    this.assertLive(app, session, user, now);
    if (found.record.expiresAt <= now)
      throw new TesseraError('invalid_token', { message: 'The reconnect token has expired.' });
    return { session, user, presented: found.presented };
  }

  private async revokeForReuse(session: SessionRecord, user: UserRecord): Promise<void> {
    const now = this.clock.now();
    const revoked = await this.repositories.transaction(async (repositories) => {
      await repositories.sessions.supersedeReconnectTokens(session.id, now);
      return repositories.sessions.revoke(session.id, 'reconnect_token_reused', now);
    });
    if (revoked) await this.announce(user, [session.id], 'reconnect_token_reused');
  }

  /** The cached view, only while this node hears every other node's changes. */
  private cached(sessionId: string, now: number): CachedSession | undefined {
    return this.bus.connected ? this.cache.get(sessionId, now) : undefined;
  }

  private async load(sessionId: string, app: AppRecord, now: number): Promise<CachedSession> {
    const generation = this.cache.generation;
    const session = await this.repositories.sessions.findById(sessionId);
    if (session !== undefined && session.appId !== app.id) throw new TesseraError('invalid_token');
    const user = session && (await this.repositories.users.findById(app.id, session.userId));
    // A session row is never deleted alone: it goes with its user (ON DELETE CASCADE), whom the
    // secret key deleted or the clean-up removed once its time was up (users/maintenance.ts
    // deletes users, never sessions). So `user_deleted` is true whichever it was, and it is what
    // the user's sockets were closed with; the token that named the session was this app's own,
    // which `invalid_token` would deny.
    if (session === undefined || user === undefined)
      throw new TesseraError('session_revoked', { details: { reason: 'user_deleted' } });
    const entry = { session, user, loadedAt: now };
    // An invalidation heard while reading may be about what was just read: then it is not kept.
    if (this.bus.connected) this.cache.set(entry, generation);
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

  private async announce(user: UserRecord, sessionIds: string[], reason: RevocationReason): Promise<void> {
    const event: RevocationEvent = { appId: user.appId, userId: user.id, sessionIds, reason };
    this.revokedHere(event);
    const told = this.tell({ type: 'revoked', node: this.bus.nodeId, event });
    // Every listener hears every revocation (closing sockets must not depend on ending anonymous
    // users going well); a failure still reaches the caller, once all of them have run.
    const results = await Promise.allSettled([...this.listeners].map(async (listener) => listener(event)));
    await told;
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** A revocation made by any node: this node forgets the sessions and closes what it holds of them. */
  private revokedHere(event: RevocationEvent): void {
    for (const sessionId of event.sessionIds) this.cache.invalidateSession(sessionId);
    for (const listener of this.clusterListeners) listener(event);
  }

  /**
   * Tells the other nodes; resolves once the broker took the message, so that the caller answers
   * only then (Redis hands it to every subscriber as it answers the PUBLISH), or after the
   * cache's lifetime, past which any view it would correct has expired anyway. Never rejects:
   * the store holds the change, and a node that missed the message trusts its cached view for
   * that lifetime at most (one whose link is down reads the store instead).
   */
  private async tell(message: SessionMessage): Promise<void> {
    const published = this.bus.publish(SESSION_CHANNEL, JSON.stringify(message)).catch((error: unknown) => {
      this.logger.warn({ err: error, type: message.type }, 'could not tell the other nodes of a session change');
    });
    // No cache, no stale view to outrun; a link that is down cannot be counted on to carry it.
    if (this.cache.ttlMs > 0 && this.bus.connected) await settledWithin(published, this.cache.ttlMs);
  }

  private heard(raw: string): void {
    const message = JSON.parse(raw) as SessionMessage;
    if (message.node === this.bus.nodeId) return;
    if (message.type === 'revoked') this.revokedHere(message.event);
    else this.cache.invalidateUser(message.userId);
  }
}
