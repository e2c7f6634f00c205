import type { Kysely } from 'kysely';

// The app's event log that its backends read as a stream (see src/events/ and docs/events.md).
// `app_event_sequences` holds each app's last sequence: appending an event bumps it with an
// UPDATE in the change's own transaction, which on PostgreSQL keeps the row locked until the
// commit, so one app's events commit in sequence order (see AppEventsRepository.append).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('app_event_sequences')
    .addColumn('app_id', 'text', (c) => c.primaryKey().references('apps.id').onDelete('cascade'))
    .addColumn('last_sequence', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('app_events')
    .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('sequence', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('app_events_pk', ['app_id', 'sequence'])
    .execute();
  // The retention sweep deletes by age across apps.
  await db.schema.createIndex('app_events_created_idx').on('app_events').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('app_events').ifExists().execute();
  await db.schema.dropTable('app_event_sequences').ifExists().execute();
}
