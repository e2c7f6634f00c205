import type { Kysely, Selectable } from 'kysely';
import type { AuthTokenTable, Database } from '../schema.js';

export interface AuthTokenRecord {
  id: string;
  appId: string;
  userId: string;
  label: string | null;
  secretHash: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Long-lived per-user login tokens. Every method but `findById` is scoped to one app and user. */
export class AuthTokensRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Omit<AuthTokenTable, 'last_used_at' | 'revoked_at'>): Promise<AuthTokenRecord> {
    const full = { ...row, last_used_at: null, revoked_at: null };
    await this.db.insertInto('auth_tokens').values(full).execute();
    return toAuthToken(full);
  }

  /** By id alone: a login presents the token before anyone knows its app or user; the caller checks both. */
  async findById(id: string): Promise<AuthTokenRecord | undefined> {
    const row = await this.db.selectFrom('auth_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAuthToken(row);
  }

  /** Tokens of a user that are neither revoked nor expired at `now`, newest first. */
  async listActive(appId: string, userId: string, now: number): Promise<AuthTokenRecord[]> {
    const rows = await this.db
      .selectFrom('auth_tokens')
      .selectAll()
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toAuthToken);
  }

  async countActive(appId: string, userId: string, now: number): Promise<number> {
    const row = await this.db
      .selectFrom('auth_tokens')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('count'))
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Returns false when the user has no such token in this app. Revoking twice keeps the first time. */
  async revoke(appId: string, userId: string, id: string, now: number): Promise<boolean> {
    const token = await this.db
      .selectFrom('auth_tokens')
      .select('revoked_at')
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (token === undefined) return false;
    if (token.revoked_at === null)
      await this.db
        .updateTable('auth_tokens')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    return true;
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.updateTable('auth_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  /** Deletes a user's tokens that were revoked or expired before `before`: they can never log in again. */
  async pruneEnded(appId: string, userId: string, before: number): Promise<void> {
    await this.db
      .deleteFrom('auth_tokens')
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('revoked_at', '<', before), eb('expires_at', '<', before)]))
      .execute();
  }
}

function toAuthToken(row: Selectable<AuthTokenTable>): AuthTokenRecord {
  return {
    id: row.id,
    appId: row.app_id,
    userId: row.user_id,
    label: row.label,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
