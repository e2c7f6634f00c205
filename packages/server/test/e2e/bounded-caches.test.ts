import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/lib/opaque-token.js';
import { openStore, type Store } from '../../src/store/database.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 12: requests to made-up app paths and key ids must not grow the server. The node runs
 * with tiny caches; a change written to the database behind its back (as the CLI or a node
 * without the cluster bus would) shows what the node still holds: while it answers from its
 * cache, it does not see the change.
 */
const LIMITS = { apps: 4, apiKeys: 4, misses: 8 };
/** sessionCacheTtlMs's default: how long an app or key is kept; a miss is kept 1 s. */
const TTL_MS = 2000;
const MISS_TTL_MS = 1000;

const randomName = () => `x${randomBytes(6).toString('hex')}`;
const randomKeyId = () => randomBytes(12).toString('base64url');
const randomKey = () => `sk_${randomKeyId()}.${randomBytes(32).toString('base64url')}`;

describe.each(backends)('bounded app and key caches on $name (issue 12)', (backend) => {
  let server: TestServer;
  let store: Store;
  const admin = () => ({ token: server.adminToken });
  const jwks = (path: string) => server.api('GET', `/v1/apps/${path}/.well-known/jwks.json`);
  const listUsers = (key: string) => server.api('GET', '/v1/apps/demo/chat/users', { key });
  /** Renames an app in the database only; the node is not told. */
  const renameBehindTheBack = (namespace: string, from: string, to: string) =>
    store.db
      .updateTable('apps')
      .set({ name: to })
      .where('name', '=', from)
      .where('namespace_id', '=', (eb) => eb.selectFrom('namespaces').select('id').where('name', '=', namespace))
      .execute();

  async function floodWithMadeUpPaths(count: number): Promise<void> {
    for (let index = 0; index < count; index += 1)
      expect((await jwks(`${randomName()}/${randomName()}`)).status).toBe(404);
  }

  beforeAll(async () => {
    server = await startTestServer(backend, { caches: { ...LIMITS } });
    store = openStore({ url: server.databaseUrl, dataDir: server.dataDir, poolSize: 1 });
    // The floods below are failed credential checks from one address: the abuse limits would
    // refuse them (429) before the key cache is reached, which is not what these tests look at.
    const unlimited = { settings: { rateLimits: { failedCredentials: { perAddress: 0, perApp: 0 } } } };
    expect((await server.api('PATCH', '/v1/admin/apps/demo/chat', { ...admin(), body: unlimited })).status).toBe(200);
    expect((await server.api('POST', '/v1/admin/namespaces', { ...admin(), body: { name: 'acme' } })).status).toBe(201);
    for (const name of ['one', 'six', 'app1', 'app2', 'app3', 'app4', 'app5', 'app6', 'app7']) {
      expect((await server.api('POST', '/v1/admin/namespaces/acme/apps', { ...admin(), body: { name } })).status).toBe(
        201,
      );
    }
  });
  afterAll(async () => {
    await store.close();
    await server.close();
  });

  it('remembers a missing app for a second only, by the injected clock', async () => {
    expect((await jwks('acme/ghost')).body).toMatchObject({ error: { code: 'app_not_found', status: 404 } });
    await renameBehindTheBack('acme', 'six', 'ghost');
    expect((await jwks('acme/ghost')).status).toBe(404);
    server.clock.advance(MISS_TTL_MS);
    expect((await jwks('acme/ghost')).status).toBe(200);
  });

  it('keeps a bounded number of missing paths: made-up ones push out older misses', async () => {
    expect((await jwks('acme/phantom')).status).toBe(404);
    await renameBehindTheBack('acme', 'ghost', 'phantom');
    expect((await jwks('acme/phantom')).status).toBe(404);
    await floodWithMadeUpPaths(LIMITS.misses);
    // No time has passed: only the bound can have dropped the miss.
    expect((await jwks('acme/phantom')).status).toBe(200);
  });

  it('made-up paths never push out a real app', async () => {
    expect((await jwks('demo/chat')).status).toBe(200);
    await renameBehindTheBack('demo', 'chat', 'chat-renamed');
    try {
      await floodWithMadeUpPaths(200);
      // Still held (the node has not seen the rename): the flood did not evict it.
      expect((await jwks('demo/chat')).status).toBe(200);
      server.clock.advance(TTL_MS);
      expect((await jwks('demo/chat')).status).toBe(404);
    } finally {
      await renameBehindTheBack('demo', 'chat-renamed', 'chat');
      server.clock.advance(MISS_TTL_MS);
    }
    expect((await jwks('demo/chat')).status).toBe(200);
  });

  it('keeps at most caches.apps apps: past that, the least recently used is read again', async () => {
    expect((await jwks('acme/one')).status).toBe(200);
    await renameBehindTheBack('acme', 'one', 'one-renamed');
    for (const name of ['app1', 'app2', 'app3']) expect((await jwks(`acme/${name}`)).status).toBe(200);
    // Four apps held: acme/one is still answered from memory, the rename unseen.
    expect((await jwks('acme/one')).status).toBe(200);
    for (const name of ['app4', 'app5', 'app6', 'app7']) expect((await jwks(`acme/${name}`)).status).toBe(200);
    // Four more apps used since: acme/one was dropped, and the node reads the rename.
    expect((await jwks('acme/one')).status).toBe(404);
    expect((await jwks('acme/one-renamed')).status).toBe(200);
  });

  it('answers app_not_found for a path that cannot name an app, however long', async () => {
    for (const path of [
      'Acme/one',
      'acme/ONE',
      'acme/-one',
      `acme/${'a'.repeat(64)}`,
      `${'n'.repeat(99)}/x`,
      'acme/one%20two',
    ]) {
      expect((await jwks(path)).body, path).toMatchObject({ error: { code: 'app_not_found' } });
    }
  });

  it('keeps a bounded number of unknown key ids, and they never push out a real key', async () => {
    const secretKey = server.secretKey;
    expect((await listUsers(secretKey)).status).toBe(200);
    // A key that does not exist yet is remembered as missing…
    const id = randomKeyId();
    const secret = randomBytes(32).toString('base64url');
    const lateKey = `sk_${id}.${secret}`;
    expect((await listUsers(lateKey)).body).toMatchObject({ error: { code: 'invalid_api_key', status: 401 } });
    const [app] = await store.db
      .selectFrom('apps')
      .innerJoin('namespaces', 'namespaces.id', 'apps.namespace_id')
      .select('apps.id')
      .where('namespaces.name', '=', 'demo')
      .execute();
    await store.db
      .insertInto('api_keys')
      .values({
        id,
        app_id: app!.id,
        kind: 'secret',
        label: null,
        secret_hash: hashSecret(secret),
        created_at: server.clock.now(),
        revoked_at: null,
      })
      .execute();
    expect((await listUsers(lateKey)).status).toBe(401);
    // …until made-up ids push it out; the demo's real key is still held (its revocation unseen).
    await store.db
      .updateTable('api_keys')
      .set({ revoked_at: server.clock.now() })
      .where('id', '=', secretKey.slice(3, 19))
      .execute();
    for (let index = 0; index < 200; index += 1) expect((await listUsers(randomKey())).status).toBe(401);
    expect((await listUsers(lateKey)).status).toBe(200);
    expect((await listUsers(secretKey)).status).toBe(200);
    server.clock.advance(TTL_MS);
    expect((await listUsers(secretKey)).body).toMatchObject({ error: { code: 'invalid_api_key' } });
  });
});
