import { sql, type Kysely } from 'kysely';

// The app's own id of a user (issue 14). Unique per app among the users that have one: the
// index is partial in both engines, and NULLs are distinct in both anyway, so users without an
// externalId never collide. Compared exactly (byte for byte) in both: externalIds are case-sensitive.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('external_id', 'text').execute();
  await db.schema
    .createIndex('users_app_external_id_unique')
    .on('users')
    .columns(['app_id', 'external_id'])
    .unique()
    .where(sql<boolean>`external_id is not null`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_app_external_id_unique').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('external_id').execute();
}
