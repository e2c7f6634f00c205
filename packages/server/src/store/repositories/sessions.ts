import type { Kysely, Selectable } from 'kysely';
import type { Database, ReconnectTokenTable, SessionTable } from '../schema.js';

export interface SessionRecord {
  id: string;
  appId: string;
  userId: string;
  strategy: string;
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  expiresAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
  userAgent: string | null;
  ip: string | null;
}

export interface ReconnectTokenRecord {
  id: string;
  sessionId: string;
  parentId: string | null;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  supersededAt: number | null;
}

/** A session as it is first written (not revoked). */
export type NewSessionRow = Omit<SessionTable, 'revoked_at' | 'revoked_reason'>;
/** A reconnect token as it is first written (neither used nor superseded). */
export type NewReconnectTokenRow = Omit<ReconnectTokenTable, 'used_at' | 'superseded_at'>;

/** Sessions and the reconnect tokens that resume them. */
export class SessionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: NewSessionRow): Promise<SessionRecord> {
    const full = { ...row, revoked_at: null, revoked_reason: null };
    await this.db.insertInto('sessions').values(full).execute();
    return toSession(full);
  }

  async findById(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSession(row);
  }

  /** Sessions of a user that are neither revoked nor past their expiry, newest first. */
  async listLive(userId: string, now: number): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .where('idle_expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toSession);
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: lastSeenAt, idle_expires_at: idleExpiresAt })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Revokes one session; returns false when it was already revoked or does not exist. */
  async revoke(id: string, reason: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Revokes every live session of a user but `exceptId`; returns the ids it revoked. */
  async revokeAllOfUser(userId: string, reason: string, now: number, exceptId?: string): Promise<string[]> {
    let query = this.db
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
    const rows = await query.returning('id').execute();
    return rows.map((row) => row.id);
  }

  /**
   * Revokes every live session of an app created before `before` (the kill switch); returns the
   * sessions it revoked with their users. Their reconnect tokens need no change: a revoked
   * session resumes nothing.
   */
  async revokeStartedBefore(
    appId: string,
    before: number,
    reason: string,
    now: number,
  ): Promise<{ id: string; userId: string }[]> {
    const rows = await this.db
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('app_id', '=', appId)
      .where('created_at', '<', before)
      .where('revoked_at', 'is', null)
      .returning(['id', 'user_id'])
      .execute();
    return rows.map((row) => ({ id: row.id, userId: row.user_id }));
  }

  async insertReconnectToken(row: NewReconnectTokenRow): Promise<void> {
    await this.db
      .insertInto('reconnect_tokens')
      .values({ ...row, used_at: null, superseded_at: null })
      .execute();
  }

  /**
   * Inserts a token unless one with its id exists; false when one did. On PostgreSQL an insert
   * of the same id by a transaction not yet committed is waited for, so a read after `false` finds it.
   */
  async insertReconnectTokenIfAbsent(row: NewReconnectTokenRow): Promise<boolean> {
    const result = await this.db
      .insertInto('reconnect_tokens')
      .values({ ...row, used_at: null, superseded_at: null })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async findReconnectToken(id: string): Promise<ReconnectTokenRecord | undefined> {
    const row = await this.db.selectFrom('reconnect_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toReconnectToken(row);
  }

  /**
   * Retires the unused tokens made by redeeming `parentId` but `exceptId`, if there are any; false
   * when there were none. Conditional, like `consumeReconnectToken`: of this and a concurrent
   * redemption of such a token, exactly one takes effect.
   */
  async supersedeSuccessors(sessionId: string, parentId: string, exceptId: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('reconnect_tokens')
      .set({ superseded_at: now })
      .where('session_id', '=', sessionId)
      .where('parent_id', '=', parentId)
      .where('id', '!=', exceptId)
      .where('used_at', 'is', null)
      .where('superseded_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Marks a reconnect token used if nobody else has. The conditional update is the atomic
   * step: of two concurrent presentations, exactly one sees `true`.
   */
  async consumeReconnectToken(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('reconnect_tokens')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('superseded_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Retires every unused reconnect token of a session but `exceptId`: a newer one replaces them, or the session ends. */
  async supersedeReconnectTokens(sessionId: string, now: number, exceptId?: string): Promise<void> {
    let query = this.db
      .updateTable('reconnect_tokens')
      .set({ superseded_at: now })
      .where('session_id', '=', sessionId)
      .where('used_at', 'is', null)
      .where('superseded_at', 'is', null);
    if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
    await query.execute();
  }
}

function toSession(row: Selectable<SessionTable>): SessionRecord {
  return {
    id: row.id,
    appId: row.app_id,
    userId: row.user_id,
    strategy: row.strategy,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    userAgent: row.user_agent,
    ip: row.ip,
  };
}

function toReconnectToken(row: Selectable<ReconnectTokenTable>): ReconnectTokenRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    parentId: row.parent_id,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    supersededAt: row.superseded_at,
  };
}
