import type { CompiledQuery, Kysely, Selectable } from 'kysely';
import type { Database, ReconnectTokenTable, SessionTable, UserTable } from '../schema.js';
import { toUser, type UserRecord } from './users.js';

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

/** The users columns a session's row is read with, each under a name of its own (both tables have `id`, `app_id`, …). */
const USER_COLUMNS = {
  id: 'user__id',
  app_id: 'user__app_id',
  kind: 'user__kind',
  username: 'user__username',
  username_key: 'user__username_key',
  email: 'user__email',
  email_key: 'user__email_key',
  full_name: 'user__full_name',
  phone: 'user__phone',
  website: 'user__website',
  avatar_url: 'user__avatar_url',
  tags: 'user__tags',
  custom_data: 'user__custom_data',
  roles: 'user__roles',
  password_hash: 'user__password_hash',
  external_id: 'user__external_id',
  created_at: 'user__created_at',
  updated_at: 'user__updated_at',
  last_login_at: 'user__last_login_at',
  disabled_at: 'user__disabled_at',
  ended_at: 'user__ended_at',
  expires_at: 'user__expires_at',
} as const satisfies { [Column in keyof UserTable]: `user__${Column}` };
const USER_COLUMN_NAMES = Object.keys(USER_COLUMNS) as (keyof UserTable)[];

/** A session's row with its user's columns, null when the user's row is not there. */
type SessionWithUserRow = Selectable<SessionTable> & {
  [Column in keyof UserTable as (typeof USER_COLUMNS)[Column]]: UserTable[Column] | null;
};

/** Sessions and the reconnect tokens that resume them. */
export class SessionsRepository {
  /** `findWithUser`'s statement, built and compiled once (it runs on every reread of a cached session). */
  private sessionWithUser: CompiledQuery<SessionWithUserRow> | undefined;

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

  /**
   * A session and its user, in one statement: what a node reads again of every session it has
   * cached. The user is the one of the session's app, as `users.findById(session.appId,
   * session.userId)` finds it; undefined when its row is not there.
   */
  async findWithUser(id: string): Promise<{ session: SessionRecord; user: UserRecord | undefined } | undefined> {
    const statement = (this.sessionWithUser ??= this.compileSessionWithUser());
    const { rows } = await this.db.executeQuery<SessionWithUserRow>({ ...statement, parameters: [id] });
    const row = rows[0];
    if (row === undefined) return undefined;
    return { session: toSession(row), user: row.user__id === null ? undefined : toUser(userOf(row)) };
  }

  private compileSessionWithUser(): CompiledQuery<SessionWithUserRow> {
    const compiled = this.db
      .selectFrom('sessions')
      .leftJoin('users', (join) =>
        join.onRef('users.id', '=', 'sessions.user_id').onRef('users.app_id', '=', 'sessions.app_id'),
      )
      .selectAll('sessions')
      .select((eb) => USER_COLUMN_NAMES.map((column) => eb.ref(`users.${column}`).as(USER_COLUMNS[column])))
      .where('sessions.id', '=', '')
      .compile();
    if (compiled.parameters.length !== 1) throw new Error('findWithUser: expected one parameter, the session id');
    return compiled;
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

/** The user's columns of a session's row, as the users table names them (its user is there: `user__id` is set). */
function userOf(row: SessionWithUserRow): Selectable<UserTable> {
  const user: Record<string, unknown> = {};
  for (const column of USER_COLUMN_NAMES) user[column] = row[USER_COLUMNS[column]];
  return user as unknown as Selectable<UserTable>;
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
