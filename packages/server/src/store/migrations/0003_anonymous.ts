import type { Kysely } from 'kysely';

// The maintenance job looks every minute for anonymous users that are not ended yet and have no
// live session left; without this index that is a scan of every user of every app.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('users_kind_ended_idx').on('users').columns(['kind', 'ended_at', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_kind_ended_idx').ifExists().execute();
}
