import { TesseraError } from '../../errors.js';
import type { AppEventLog } from '../../events/append.js';
import type { Clock } from '../../lib/clock.js';
import {
  createOpaqueToken,
  deriveOpaqueToken,
  parseOpaqueToken,
  secretMatches,
  type OpaqueToken,
} from '../../lib/opaque-token.js';
import type {
  AppRecord,
  NewReconnectTokenRow,
  ReconnectTokenRecord,
  Repositories,
  SessionRecord,
  UserRecord,
} from '../../store/repositories/index.js';
import { assertSessionLive, readSession } from './liveness.js';
import type { RevocationFeed } from './revocations.js';

/** What the key that derives successors is for (see `MasterKey.deriveKey`). */
export const SUCCESSOR_KEY_PURPOSE = 'reconnect-token successors';

/** A reconnect token a client presented, whose secret matched its row: what a redemption spends. */
export interface PresentedReconnectToken {
  id: string;
  secret: string;
}

/**
 * What a resumed session's new reconnect token comes from: a reconnect token, which the renewal
 * spends, or a still-valid access token (its `jti`), which stays valid.
 */
export type Renewal = { reconnectToken: PresentedReconnectToken } | { accessTokenId: string };

/** A reconnect token as the client is given it. */
export interface GivenReconnectToken {
  token: string;
  expiresAt: number;
}

/** The session a token belongs to, as far as its tokens care. */
type TokenSession = Pick<SessionRecord, 'id' | 'expiresAt'>;

/**
 * The reconnect tokens of sessions: single use, rotated on every use, a spent one presented
 * again taken for theft (RFC 9700 §4.14.2) unless it is a duplicate within the app's grace period.
 *
 * A token's successor is not random: it is derived, under a server key, from the id and secret
 * the client presents. So every presentation of one token within the grace period (thirty tabs
 * refreshing at once, on any node, or the retry of a lost answer) gets the same successor: the
 * one that spends the token writes it, the others find it written and answer it too. Nobody
 * without the presented secret and the server key can compute it, and the store keeps only its
 * hash, as for every token. A login with an access token gets a token derived from that access
 * token in the same way, so that duplicates of it agree too.
 */
export class ReconnectTokens {
  constructor(
    private readonly successorKey: Buffer,
    private readonly repositories: Repositories,
    private readonly clock: Clock,
    private readonly revocations: RevocationFeed,
    private readonly events: AppEventLog,
  ) {}

  /**
   * The session a reconnect token resumes, if the token may resume it; `renew` spends it. A spent
   * token presented again ends its session (RFC 9700 §4.14.2), unless it is a duplicate: within
   * the app's grace period, while its successor is unused. Why the session may not be used is
   * answered before the token's own expiry.
   */
  async check(
    app: AppRecord,
    token: string,
  ): Promise<{ session: SessionRecord; user: UserRecord; presented: PresentedReconnectToken }> {
    const now = this.clock.now();
    const found = await this.find(token);
    if (found === undefined) throw new TesseraError('invalid_token', { message: 'The reconnect token is not valid.' });
    const { session, user } = await readSession(this.repositories, app, found.record.sessionId);
    assertSessionLive(app, session, user, now);
    if (found.record.expiresAt <= now)
      throw new TesseraError('invalid_token', { message: 'The reconnect token has expired.' });
    return { session, user, presented: found.presented };
  }

  /** Whose session a reconnect token would resume, without spending it; undefined when it is not a valid token. */
  async ownerOf(token: string): Promise<{ appId: string; userId: string; sessionId: string } | undefined> {
    const found = await this.find(token);
    const session = found && (await this.repositories.sessions.findById(found.record.sessionId));
    return session === undefined ? undefined : { appId: session.appId, userId: session.userId, sessionId: session.id };
  }

  /** A spent token came back past its grace (RFC 9700 §4.14.2): the session ends with all its tokens. */
  async revokeForReuse(session: SessionRecord, user: UserRecord): Promise<void> {
    const now = this.clock.now();
    const revoked = await this.repositories.transaction(async (repositories) => {
      await repositories.sessions.supersedeReconnectTokens(session.id, now);
      if (!(await repositories.sessions.revoke(session.id, 'reconnect_token_reused', now))) return false;
      await this.events.append(repositories, session.appId, {
        type: 'session.ended',
        userId: session.userId,
        sessionIds: [session.id],
        reason: 'reconnect_token_reused',
      });
      return true;
    });
    if (revoked) await this.revocations.announce(user, [session.id], 'reconnect_token_reused');
  }

  /** A session's first token (random), to be written with the session. */
  first(app: AppRecord, session: TokenSession, now: number): { token: string; row: NewReconnectTokenRow } {
    const { token, row } = this.prepare(createOpaqueToken('rt'), app, session, null, now);
    return { token, row };
  }

  /** The token `token` names, if its secret matches; expired, spent or not. */
  private async find(
    token: string,
  ): Promise<{ record: ReconnectTokenRecord; presented: PresentedReconnectToken } | undefined> {
    const parsed = parseOpaqueToken(token);
    if (parsed?.prefix !== 'rt') return undefined;
    const record = await this.repositories.sessions.findReconnectToken(parsed.id);
    if (record === undefined || !secretMatches(parsed.secret, record.secretHash)) return undefined;
    return { record, presented: { id: parsed.id, secret: parsed.secret } };
  }

  /**
   * The session's new reconnect token, in place of its unused ones. Undefined when `renewal`
   * presents a spent reconnect token that is no duplicate: reuse, and the caller ends the session.
   */
  async renew(
    repositories: Repositories,
    app: AppRecord,
    session: TokenSession,
    renewal: Renewal | undefined,
    now: number,
  ): Promise<GivenReconnectToken | undefined> {
    if (renewal === undefined) return this.replace(repositories, app, session, now);
    if ('reconnectToken' in renewal) return this.redeem(repositories, app, session, renewal.reconnectToken, now);
    return this.renewForAccessToken(repositories, app, session, renewal.accessTokenId, now);
  }

  /** A new random token in place of the session's unused ones. */
  private async replace(
    repositories: Repositories,
    app: AppRecord,
    session: TokenSession,
    now: number,
  ): Promise<GivenReconnectToken> {
    return this.install(repositories, this.prepare(createOpaqueToken('rt'), app, session, null, now), now);
  }

  /**
   * For a login with an access token (which it does not spend): the token derived from that access
   * token, written by the first of concurrent duplicates and answered to all of them while it is
   * unused. Once it was used or superseded, the same access token gets a new random one.
   */
  private async renewForAccessToken(
    repositories: Repositories,
    app: AppRecord,
    session: TokenSession,
    accessTokenId: string,
    now: number,
  ): Promise<GivenReconnectToken> {
    const derived = deriveOpaqueToken('rt', this.successorKey, `access-token:${accessTokenId}`);
    const { token, row } = this.prepare(derived, app, session, null, now);
    // Insert first: of concurrent duplicates exactly one inserts (on PostgreSQL the others wait for
    // its commit, then find its row), and only that one supersedes the session's other tokens.
    if (await repositories.sessions.insertReconnectTokenIfAbsent(row)) {
      await repositories.sessions.supersedeReconnectTokens(session.id, now, derived.id);
      return { token, expiresAt: row.expires_at };
    }
    const written = await repositories.sessions.findReconnectToken(derived.id);
    if (
      written !== undefined &&
      written.sessionId === session.id &&
      written.usedAt === null &&
      written.supersededAt === null
    ) {
      return { token: derived.token, expiresAt: written.expiresAt };
    }
    return this.replace(repositories, app, session, now);
  }

  /**
   * Spends `presented` and gives its successor, the same one to every presentation within the
   * grace period. Undefined when the presentation is reuse: the caller ends the session.
   */
  private async redeem(
    repositories: Repositories,
    app: AppRecord,
    session: TokenSession,
    presented: PresentedReconnectToken,
    now: number,
  ): Promise<GivenReconnectToken | undefined> {
    const successor = this.successorOf(presented);
    // The atomic step: of concurrent presentations, on any node, exactly one spends the token.
    // On PostgreSQL the others' update waits for that one's transaction and then matches
    // nothing, so their next read sees the successor it wrote.
    if (await repositories.sessions.consumeReconnectToken(presented.id, now)) {
      return this.install(repositories, this.prepare(successor, app, session, presented.id, now), now);
    }
    return this.presentedAgain(repositories, app, session, presented.id, successor, now);
  }

  /**
   * A spent token came back. Within the grace period, and while its successor is unused, it is a
   * duplicate (concurrent, or a retry after a lost answer) and gets that successor. Otherwise it
   * is stale: a token superseded unused, one past the grace period, or one whose successor was
   * used (its holder is two steps behind, which no duplicate is).
   */
  private async presentedAgain(
    repositories: Repositories,
    app: AppRecord,
    session: TokenSession,
    parentId: string,
    successor: OpaqueToken,
    now: number,
  ): Promise<GivenReconnectToken | undefined> {
    const parent = await repositories.sessions.findReconnectToken(parentId);
    if (parent === undefined || !withinGracePeriod(app, parent, now)) return undefined;
    const written = await repositories.sessions.findReconnectToken(successor.id);
    // No such token: the parent was spent by an earlier version of Tessera (or under another
    // master key), whose successor was random and cannot be given again. As that version did, a
    // new one replaces it if it is still unused; the conditional update lets one of concurrent
    // retries do so, and the others then find its replacement (which their update spares: it may
    // have committed since they looked).
    if (
      written === undefined &&
      (await repositories.sessions.supersedeSuccessors(session.id, parentId, successor.id, now))
    ) {
      return this.install(repositories, this.prepare(successor, app, session, parentId, now), now);
    }
    const found = written ?? (await repositories.sessions.findReconnectToken(successor.id));
    if (found === undefined || found.parentId !== parentId || found.usedAt !== null || found.supersededAt !== null)
      return undefined;
    return { token: successor.token, expiresAt: found.expiresAt };
  }

  /** Writes `prepared` as the session's one usable token. */
  private async install(
    repositories: Repositories,
    { token, row }: { token: string; row: NewReconnectTokenRow },
    now: number,
  ): Promise<GivenReconnectToken> {
    await repositories.sessions.supersedeReconnectTokens(row.session_id, now);
    await repositories.sessions.insertReconnectToken(row);
    return { token, expiresAt: row.expires_at };
  }

  private prepare(
    made: OpaqueToken,
    app: AppRecord,
    session: TokenSession,
    parentId: string | null,
    now: number,
  ): { token: string; row: NewReconnectTokenRow } {
    const expiresAt = Math.min(now + app.settings.reconnectTokenTtl * 1000, session.expiresAt);
    return {
      token: made.token,
      row: {
        id: made.id,
        session_id: session.id,
        parent_id: parentId,
        secret_hash: made.secretHash,
        created_at: now,
        expires_at: expiresAt,
      },
    };
  }

  /** The one successor of a presented token: only the holder of its secret, through this server, gets it. */
  private successorOf(presented: PresentedReconnectToken): OpaqueToken {
    return deriveOpaqueToken('rt', this.successorKey, `${presented.id}.${presented.secret}`);
  }
}

/** Whether a spent token presented now may still be a duplicate of the presentation that spent it. */
function withinGracePeriod(app: AppRecord, token: ReconnectTokenRecord, now: number): boolean {
  // Only a token that was redeemed can have a duplicate; a superseded one is stale.
  if (token.usedAt === null || token.supersededAt !== null) return false;
  const graceMs = app.settings.reconnectGracePeriod * 1000;
  // Not `>=` alone: a concurrent redemption on another node may have stamped a time later than this call's `now`.
  return graceMs > 0 && now - token.usedAt < graceMs;
}
