import { isScope, type Scope } from '@tessera/protocol';
import type { Kysely, Selectable } from 'kysely';
import type { AdminTokenTable, ApiKeyTable, Database } from '../schema.js';

export type ApiKeyKind = ApiKeyTable['kind'];

/** A key as `insert` takes it: its scopes as a list (`null`: full access, and always for a publishable key). */
export type NewApiKeyRow = Omit<ApiKeyTable, 'last_used_at' | 'revoked_at' | 'scopes'> & {
  scopes: readonly Scope[] | null;
};

export interface ApiKeyRecord {
  id: string;
  appId: string;
  kind: ApiKeyKind;
  label: string | null;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
  /** A secret key's scopes; `null`: full access (every key made before scopes existed). */
  scopes: readonly Scope[] | null;
}

export interface AdminTokenRecord {
  id: string;
  label: string | null;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
}

/** The apps' publishable and secret keys, and the operators' admin tokens. */
export class ApiKeysRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: NewApiKeyRow): Promise<ApiKeyRecord> {
    const scopes = row.scopes === null ? null : JSON.stringify(row.scopes);
    const full = { ...row, scopes, last_used_at: null, revoked_at: null };
    await this.db.insertInto('api_keys').values(full).execute();
    return toApiKey(full);
  }

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toApiKey(row);
  }

  async listForApp(appId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('app_id', '=', appId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toApiKey);
  }

  /** Returns false when the key does not exist in this app. Revoking twice keeps the first time. */
  async revoke(appId: string, id: string, now: number): Promise<boolean> {
    const key = await this.db
      .selectFrom('api_keys')
      .select('revoked_at')
      .where('app_id', '=', appId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (key === undefined) return false;
    if (key.revoked_at === null)
      await this.db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).execute();
    return true;
  }

  async insertAdminToken(row: Omit<AdminTokenTable, 'revoked_at'>): Promise<void> {
    await this.db
      .insertInto('admin_tokens')
      .values({ ...row, revoked_at: null })
      .execute();
  }

  async findAdminToken(id: string): Promise<AdminTokenRecord | undefined> {
    const row = await this.db.selectFrom('admin_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      row && {
        id: row.id,
        label: row.label,
        secretHash: row.secret_hash,
        createdAt: row.created_at,
        revokedAt: row.revoked_at,
      }
    );
  }
}

function toApiKey(row: Selectable<ApiKeyTable>): ApiKeyRecord {
  return {
    id: row.id,
    appId: row.app_id,
    kind: row.kind,
    label: row.label,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    scopes: scopesOf(row.scopes),
  };
}

/** A scope this version does not know (one retired since) grants nothing. */
function scopesOf(stored: string | null): readonly Scope[] | null {
  if (stored === null) return null;
  const parsed: unknown = JSON.parse(stored);
  return Array.isArray(parsed) ? parsed.filter(isScope) : [];
}
