import type { Kysely } from 'kysely';

// The tables behind the login methods beyond passwords. Migrations take Kysely<unknown>:
// they must not depend on today's table types.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    // Set when an ephemeral user (anonymous, guest) is over: it can no longer log in or be seen online.
    .addColumn('ended_at', 'bigint')
    .execute();
  await db.schema
    .alterTable('users')
    // When a guest user is removed by the clean-up; null for users that are kept.
    .addColumn('expires_at', 'bigint')
    .execute();
  await db.schema.createIndex('users_expires_idx').on('users').column('expires_at').execute();

  // Links an identity proven elsewhere (a trusted issuer's JWT, an OpenID provider, an identity
  // provider webhook) to a user of the app: (provider, subject) names one user.
  await db.schema
    .createTable('user_identities')
    .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_login_at', 'bigint')
    .addPrimaryKeyConstraint('user_identities_pk', ['app_id', 'provider', 'subject'])
    .execute();
  await db.schema.createIndex('user_identities_user_idx').on('user_identities').column('user_id').execute();

  // Long-lived per-user tokens made by the app's backend (CometChat's auth tokens); only a hash is kept.
  await db.schema
    .createTable('auth_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('label', 'text')
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('auth_tokens_user_idx').on('auth_tokens').columns(['app_id', 'user_id']).execute();

  // Token ids (`jti`) already used where an issuer asks for single use, kept until the token
  // would have expired anyway. In the database so every node of a cluster sees them.
  await db.schema
    .createTable('used_token_ids')
    .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('used_token_ids_pk', ['app_id', 'issuer', 'jti'])
    .execute();
  await db.schema.createIndex('used_token_ids_expires_idx').on('used_token_ids').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['used_token_ids', 'auth_tokens', 'user_identities'])
    await db.schema.dropTable(table).ifExists().execute();
  await db.schema.dropIndex('users_expires_idx').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('expires_at').execute();
  await db.schema.alterTable('users').dropColumn('ended_at').execute();
}
