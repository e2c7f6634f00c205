import type { Kysely, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Database, UserTable } from '../schema.js';

export interface UserRecord {
  id: string;
  appId: string;
  kind: UserTable['kind'];
  username: string | null;
  email: string | null;
  fullName: string | null;
  phone: string | null;
  website: string | null;
  avatarUrl: string | null;
  tags: string[];
  customData: Record<string, unknown> | null;
  roles: string[];
  passwordHash: string | null;
  /** The app's own id of the user, set with the secret key or mapped from an external login. */
  externalId: string | null;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  disabledAt: number | null;
  endedAt: number | null;
  expiresAt: number | null;
}

/** A new user's row; `external_id` may be left out (no externalId). */
export type NewUserRow = Omit<UserTable, 'external_id'> & { external_id?: string | null };
export type UserRowPatch = Omit<Updateable<UserTable>, 'id' | 'app_id' | 'created_at'>;

export interface ListUsersQuery {
  /** Case-insensitive prefix of the username or the email. */
  prefix?: string | undefined;
  /** The last id of the previous page. */
  after?: string | undefined;
  limit: number;
}

/** Users of every app. Every method is scoped to one app: nothing crosses apps. */
export class UsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: NewUserRow): Promise<UserRecord> {
    const complete = { external_id: null, ...row };
    await this.db.insertInto('users').values(complete).execute();
    return toUser(complete);
  }

  async findById(appId: string, id: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('app_id', '=', appId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async findByLogin(appId: string, field: 'username_key' | 'email_key', key: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('app_id', '=', appId)
      .where(field, '=', key)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async findByExternalId(appId: string, externalId: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('app_id', '=', appId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async list(appId: string, { prefix, after, limit }: ListUsersQuery): Promise<UserRecord[]> {
    let query = this.db.selectFrom('users').selectAll().where('app_id', '=', appId);
    if (after !== undefined) query = query.where('id', '>', after);
    if (prefix !== undefined && prefix !== '') {
      const pattern = `${escapeLike(prefix)}%`;
      query = query.where((eb) =>
        eb.or([
          sql<boolean>`${eb.ref('username_key')} like ${pattern} escape '\\'`,
          sql<boolean>`${eb.ref('email_key')} like ${pattern} escape '\\'`,
        ]),
      );
    }
    const rows = await query.orderBy('id').limit(limit).execute();
    return rows.map(toUser);
  }

  /** Returns the updated user, or undefined when it does not exist in this app. */
  async update(appId: string, id: string, patch: UserRowPatch): Promise<UserRecord | undefined> {
    if (Object.keys(patch).length > 0) {
      await this.db.updateTable('users').set(patch).where('app_id', '=', appId).where('id', '=', id).execute();
    }
    return this.findById(appId, id);
  }

  /** Stamps a login; one statement, no read back (it runs on every login). */
  async recordLogin(appId: string, id: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ last_login_at: now })
      .where('app_id', '=', appId)
      .where('id', '=', id)
      .execute();
  }

  async delete(appId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('users')
      .where('app_id', '=', appId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** A user's row as its record (also for rows read alongside others: sessions.ts). */
export function toUser(row: Selectable<UserTable>): UserRecord {
  return {
    id: row.id,
    appId: row.app_id,
    kind: row.kind,
    username: row.username,
    email: row.email,
    fullName: row.full_name,
    phone: row.phone,
    website: row.website,
    avatarUrl: row.avatar_url,
    tags: JSON.parse(row.tags) as string[],
    customData: row.custom_data === null ? null : (JSON.parse(row.custom_data) as Record<string, unknown>),
    roles: JSON.parse(row.roles) as string[],
    passwordHash: row.password_hash,
    externalId: row.external_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
    disabledAt: row.disabled_at,
    endedAt: row.ended_at,
    expiresAt: row.expires_at,
  };
}
