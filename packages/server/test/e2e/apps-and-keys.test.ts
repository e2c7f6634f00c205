import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../helpers/users.js';

interface CreatedKey {
  key: string;
  id: string;
  kind: string;
}

describe.each(backends)('namespaces, apps and API keys on $name', (backend) => {
  let server: TestServer;
  let other: { publishableKey: string; secretKey: string };

  beforeAll(async () => {
    server = await startTestServer(backend);
    const admin = { token: server.adminToken };
    expect((await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: 'acme' } })).status).toBe(201);
    expect(
      (await server.api('POST', '/v1/admin/namespaces/acme/apps', { ...admin, body: { name: 'game' } })).status,
    ).toBe(201);
    const pk = await server.api<CreatedKey>('POST', '/v1/admin/apps/acme/game/keys', {
      ...admin,
      body: { kind: 'publishable', label: 'web' },
    });
    const sk = await server.api<CreatedKey>('POST', '/v1/admin/apps/acme/game/keys', {
      ...admin,
      body: { kind: 'secret' },
    });
    other = { publishableKey: pk.body.key, secretKey: sk.body.key };
  });
  afterAll(() => server.close());

  it('creates keys shown once and lists them without their secrets', async () => {
    expect(other.publishableKey).toMatch(/^pk_[\w-]{16}\.[\w-]{43}$/);
    expect(other.secretKey).toMatch(/^sk_/);
    const list = await server.api<{ items: Record<string, unknown>[] }>('GET', '/v1/admin/apps/acme/game/keys', {
      token: server.adminToken,
    });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(2);
    expect(JSON.stringify(list.body)).not.toContain(other.publishableKey.split('.')[1]);
    expect(list.body.items.find((item) => item.kind === 'publishable')).toMatchObject({
      label: 'web',
      revokedAt: null,
    });
  });

  it('stores only a SHA-256 hash of each key', async () => {
    const store = openStore({ url: server.databaseUrl, dataDir: server.dataDir });
    try {
      const rows = await store.db.selectFrom('api_keys').select(['id', 'secret_hash']).execute();
      const secret = other.secretKey.split('.')[1]!;
      for (const row of rows) expect(row.secret_hash).not.toContain(secret);
      const adminRows = await store.db.selectFrom('admin_tokens').select('secret_hash').execute();
      expect(JSON.stringify(adminRows)).not.toContain(server.adminToken.split('.')[1]);
    } finally {
      await store.close();
    }
  });

  it('refuses duplicate namespaces and apps, and bad names', async () => {
    const admin = { token: server.adminToken };
    expect((await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: 'acme' } })).body).toMatchObject(
      { error: { code: 'namespace_exists', status: 409 } },
    );
    expect(
      (await server.api('POST', '/v1/admin/namespaces/acme/apps', { ...admin, body: { name: 'game' } })).body,
    ).toMatchObject({ error: { code: 'app_exists', status: 409 } });
    expect(
      (await server.api('POST', '/v1/admin/namespaces/nope/apps', { ...admin, body: { name: 'x' } })).body,
    ).toMatchObject({ error: { code: 'namespace_not_found' } });
    expect(
      (await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: 'Bad Name' } })).body,
    ).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('needs an admin token for the admin API', async () => {
    expect((await server.api('GET', '/v1/admin/namespaces')).body).toMatchObject({
      error: { code: 'missing_credentials', status: 401 },
    });
    expect((await server.api('GET', '/v1/admin/namespaces', { token: server.secretKey })).body).toMatchObject({
      error: { code: 'invalid_admin_token' },
    });
    expect(
      (await server.api('GET', '/v1/admin/namespaces', { token: `${server.adminToken.slice(0, -2)}xx` })).body,
    ).toMatchObject({ error: { code: 'invalid_admin_token' } });
  });

  it('lets a publishable key make only the public calls', async () => {
    const signup = await server.api('POST', '/v1/apps/demo/chat/users', {
      key: server.publishableKey,
      body: { email: uniqueEmail(), password: PASSWORD },
    });
    expect(signup.status).toBe(201);
    const list = await server.api('GET', '/v1/apps/demo/chat/users', { key: server.publishableKey });
    expect(list.status).toBe(403);
    expect(list.body).toMatchObject({ error: { code: 'forbidden' } });
    const asBearer = await server.api('GET', '/v1/apps/demo/chat/users', { token: server.secretKey });
    expect(asBearer.status).toBe(200);
  });

  it('never accepts a key of one app on another', async () => {
    const calls: [string, string, unknown?][] = [
      ['POST', '/v1/apps/demo/chat/users', { email: uniqueEmail(), password: PASSWORD }],
      ['POST', '/v1/apps/demo/chat/authentication', { strategy: 'local', email: uniqueEmail(), password: PASSWORD }],
      ['GET', '/v1/apps/demo/chat/users'],
    ];
    for (const [method, path, body] of calls) {
      for (const key of [other.publishableKey, other.secretKey]) {
        const response = await server.api(method, path, { key, ...(body === undefined ? {} : { body }) });
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(response.body).toMatchObject({ error: { code: 'invalid_api_key' } });
      }
    }
  });

  it('never accepts an access token of one app on another', async () => {
    const { login } = await signUpAndLogIn(server);
    const response = await server.api('GET', '/v1/apps/acme/game/me', { token: login.accessToken });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: 'invalid_token' } });
  });

  it('stops accepting a revoked key at once', async () => {
    const created = await server.api<CreatedKey>('POST', '/v1/admin/apps/demo/chat/keys', {
      token: server.adminToken,
      body: { kind: 'secret', label: 'to revoke' },
    });
    expect((await server.api('GET', '/v1/apps/demo/chat/users', { key: created.body.key })).status).toBe(200);
    expect(
      (await server.api('DELETE', `/v1/admin/apps/demo/chat/keys/${created.body.id}`, { token: server.adminToken }))
        .status,
    ).toBe(204);
    expect((await server.api('GET', '/v1/apps/demo/chat/users', { key: created.body.key })).body).toMatchObject({
      error: { code: 'invalid_api_key' },
    });
    expect(
      (await server.api('DELETE', '/v1/admin/apps/demo/chat/keys/nope', { token: server.adminToken })).body,
    ).toMatchObject({ error: { code: 'key_not_found' } });
  });

  it('changes only the settings a patch names, and refuses a bad result without changing any', async () => {
    const admin = { token: server.adminToken };
    const path = '/v1/admin/apps/acme/game';
    const first = await server.api<{ settings: Record<string, unknown> }>('PATCH', path, {
      ...admin,
      body: { settings: { accessTokenTtl: 120, strategies: { local: { enabled: false } } } },
    });
    expect(first.status).toBe(200);
    const second = await server.api<{ settings: Record<string, unknown> }>('PATCH', path, {
      ...admin,
      body: { settings: { sessionIdleTimeout: 600, strategies: { anonymous: { enabled: true } } } },
    });
    expect(second.body.settings).toMatchObject({
      accessTokenTtl: 120,
      sessionIdleTimeout: 600,
      strategies: { local: { enabled: false }, anonymous: { enabled: true }, reconnect: { enabled: true } },
    });
    const refused = await server.api('PATCH', path, { ...admin, body: { settings: { accessTokenTtl: 1 } } });
    expect(refused.body).toMatchObject({ error: { code: 'invalid_request', status: 400 } });
    expect((await server.api('GET', path, admin)).body).toMatchObject({ settings: second.body.settings });
  });

  it('answers app_not_found for an unknown app', async () => {
    const response = await server.api('POST', '/v1/apps/demo/nope/authentication', {
      key: server.publishableKey,
      body: { strategy: 'local' },
    });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ error: { code: 'app_not_found' } });
  });
});
