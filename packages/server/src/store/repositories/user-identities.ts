import type { Kysely, Selectable } from 'kysely';
import type { Database, UserIdentityTable } from '../schema.js';

export interface UserIdentityRecord {
  appId: string;
  provider: string;
  subject: string;
  userId: string;
  createdAt: number;
  lastLoginAt: number | null;
}

/**
 * Links between identities proven elsewhere (a trusted issuer, an OpenID provider, the app's
 * identity-provider webhook) and users: (app, provider, subject) names at most one user.
 */
export class UserIdentitiesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async find(appId: string, provider: string, subject: string): Promise<UserIdentityRecord | undefined> {
    const row = await this.db
      .selectFrom('user_identities')
      .selectAll()
      .where('app_id', '=', appId)
      .where('provider', '=', provider)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return row && toIdentity(row);
  }

  /** Throws a unique violation when the identity is already linked (see store/errors.ts). */
  async insert(row: UserIdentityTable): Promise<UserIdentityRecord> {
    await this.db.insertInto('user_identities').values(row).execute();
    return toIdentity(row);
  }

  async recordLogin(appId: string, provider: string, subject: string, now: number): Promise<void> {
    await this.db
      .updateTable('user_identities')
      .set({ last_login_at: now })
      .where('app_id', '=', appId)
      .where('provider', '=', provider)
      .where('subject', '=', subject)
      .execute();
  }

  async listForUser(appId: string, userId: string): Promise<UserIdentityRecord[]> {
    const rows = await this.db
      .selectFrom('user_identities')
      .selectAll()
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
    return rows.map(toIdentity);
  }
}

function toIdentity(row: Selectable<UserIdentityTable>): UserIdentityRecord {
  return {
    appId: row.app_id,
    provider: row.provider,
    subject: row.subject,
    userId: row.user_id,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}
