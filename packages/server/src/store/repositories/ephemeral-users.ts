import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { UserRowPatch } from './users.js';

export interface UserRef {
  id: string;
  appId: string;
}

export interface EndAnonymous {
  now: number;
  /** When the clean-up may remove the ended user. */
  expiresAt: number;
  /** End only users none of whose sessions is live any more (their last session ended). */
  onlyWithoutLiveSession: boolean;
}

/**
 * The life cycle of users that do not last: anonymous users that end with their last session,
 * and users (guests, ended anonymous users) that the clean-up removes once `expires_at` passed.
 * Every change is one conditional statement, so concurrent nodes and requests cannot undo each other.
 */
export class EphemeralUsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Marks anonymous users of one app ended; returns the ids it changed (already ended or not anonymous: skipped). */
  async endAnonymous(
    appId: string,
    ids: readonly string[],
    { now, expiresAt, onlyWithoutLiveSession }: EndAnonymous,
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    let query = this.db
      .updateTable('users')
      .set({ ended_at: now, expires_at: expiresAt, updated_at: now })
      .where('app_id', '=', appId)
      .where('id', 'in', ids)
      .where('kind', '=', 'anonymous')
      .where('ended_at', 'is', null);
    if (onlyWithoutLiveSession) query = query.where((eb) => eb.not(eb.exists(liveSessionOf(eb, now))));
    const rows = await query.returning('id').execute();
    return rows.map((row) => row.id);
  }

  /**
   * Anonymous users not yet ended with no live session left (their sessions expired). Users made
   * after `createdBefore` are left alone: their first session may be being created right now.
   */
  async findIdleAnonymous(now: number, createdBefore: number, limit: number): Promise<UserRef[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'app_id'])
      .where('kind', '=', 'anonymous')
      .where('ended_at', 'is', null)
      .where('created_at', '<=', createdBefore)
      .where((eb) => eb.not(eb.exists(liveSessionOf(eb, now))))
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: row.id, appId: row.app_id }));
  }

  /** Users whose `expires_at` has passed (guests, ended anonymous users). */
  async findExpired(now: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('users')
      .select('id')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  /** Removes those of `ids` that are still expired; their sessions and tokens go with them (cascade). */
  async deleteExpired(ids: readonly string[], now: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .deleteFrom('users')
      .where('id', 'in', ids)
      .where('expires_at', '<=', now)
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  /**
   * Turns a live anonymous user into a registered one, keeping its id. Returns false when the
   * user is not (or no longer) a live anonymous user of the app.
   */
  async registerAnonymous(appId: string, id: string, patch: UserRowPatch): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ ...patch, kind: 'registered', expires_at: null })
      .where('app_id', '=', appId)
      .where('id', '=', id)
      .where('kind', '=', 'anonymous')
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

/** A live session of the user row in scope: neither revoked nor past either expiry (as SessionsRepository.listLive). */
function liveSessionOf(eb: ExpressionBuilder<Database, 'users'>, now: number) {
  return eb
    .selectFrom('sessions')
    .select(sql.lit(1).as('live'))
    .whereRef('sessions.user_id', '=', 'users.id')
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', now)
    .where('sessions.idle_expires_at', '>', now);
}
