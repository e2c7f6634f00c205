import { SCOPE_NAMES, scopesAllow } from '@tessera/protocol';
import { Migrator } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest, openStore, type Store } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations/index.js';
import { ApiKeysRepository } from '../../src/store/repositories/api-keys.js';
import { backends } from '../helpers/backends.js';

/** Issue 14, item 4: migration 0005 gives API keys scopes; every key made before keeps full access. */
describe.each(backends)('API keys and their scopes on $name', (backend) => {
  let store: Store;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    const provisioned = await backend.provision();
    dispose = provisioned.dispose;
    store = openStore({ url: provisioned.databaseUrl, dataDir: provisioned.dataDir, poolSize: 1 });
  });
  afterEach(async () => {
    await store.close();
    await dispose();
  });

  /** The database as the release before scopes left it, with one app. */
  async function databaseBeforeScopes(): Promise<void> {
    const migrator = new Migrator({
      db: store.db,
      provider: { getMigrations: () => Promise.resolve(migrations) },
      ...(store.schema === undefined ? {} : { migrationTableSchema: store.schema }),
    });
    const { error } = await migrator.migrateTo('0004_sessions_cutoff');
    expect(error).toBeUndefined();
    await store.db.insertInto('namespaces').values({ id: 'ns', name: 'acme', created_at: 1 }).execute();
    await store.db
      .insertInto('apps')
      .values({ id: 'app', namespace_id: 'ns', name: 'chat', settings: '{}', created_at: 1 })
      .execute();
  }

  it('keeps a key made before migration 0005 with full access', async () => {
    await databaseBeforeScopes();
    await store.db
      .insertInto('api_keys')
      .values({ id: 'old', app_id: 'app', kind: 'secret', label: null, secret_hash: 'h', created_at: 1 })
      .execute();
    expect(await migrateToLatest(store)).toContain('0005_key_scopes');

    const old = await new ApiKeysRepository(store.db).findById('old');
    expect(old?.scopes).toBeNull();
    for (const scope of SCOPE_NAMES) expect(scopesAllow(old!.scopes, scope), scope).toBe(true);
  });

  it('stores a scoped key, and drops a stored scope this version does not know', async () => {
    await databaseBeforeScopes();
    await migrateToLatest(store);
    const keys = new ApiKeysRepository(store.db);
    const base = { app_id: 'app', kind: 'secret' as const, label: null, secret_hash: 'h', created_at: 1 };
    await keys.insert({ ...base, id: 'scoped', scopes: ['users:read', 'auth-tokens:write'] });
    await keys.insert({ ...base, id: 'full', scopes: null });
    expect((await keys.listForApp('app')).map(({ id, scopes }) => ({ id, scopes }))).toEqual([
      { id: 'full', scopes: null },
      { id: 'scoped', scopes: ['users:read', 'auth-tokens:write'] },
    ]);

    await store.db
      .updateTable('api_keys')
      .set({ scopes: JSON.stringify(['users:read', 'users:retired']) })
      .where('id', '=', 'scoped')
      .execute();
    const reread = await keys.findById('scoped');
    expect(reread?.scopes).toEqual(['users:read']);
    expect(scopesAllow(reread!.scopes, 'auth-tokens:write')).toBe(false);
  });
});
