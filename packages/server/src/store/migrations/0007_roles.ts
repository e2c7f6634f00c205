import { sql, type Kysely } from 'kysely';

// A user's roles, a JSON array of strings like `tags`; every existing user starts with none.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('roles', 'text', (column) => column.notNull().defaultTo(sql`'[]'`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('roles').execute();
}
