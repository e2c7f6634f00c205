import type { Kysely } from 'kysely';

// Scoped secret keys: a JSON array of scope names (see @tessera/protocol's scopes.ts). Existing
// keys keep NULL, which means full access, so no key loses a call it could make before.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('scopes', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('scopes').execute();
}
