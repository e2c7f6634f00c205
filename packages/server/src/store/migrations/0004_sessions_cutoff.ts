import type { Kysely } from 'kysely';

// The app-wide kill switch: sessions started before this moment are refused for good (see
// SessionService.revokeStartedBefore). The index serves the sweep that revokes them by app and age.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apps').addColumn('sessions_revoked_before', 'bigint').execute();
  await db.schema.createIndex('sessions_app_created_idx').on('sessions').columns(['app_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sessions_app_created_idx').ifExists().execute();
  await db.schema.alterTable('apps').dropColumn('sessions_revoked_before').execute();
}
