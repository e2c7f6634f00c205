import type { AuthToken, AuthenticationResult, CreatedAuthToken, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ACTIVE_AUTH_TOKENS } from '../../src/auth/tokens/auth-tokens.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUp } from '../helpers/users.js';

const HOUR = 3_600_000;
const TOKEN_PATTERN = /^at_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/;

interface AppKeys {
  path: string;
  publishableKey: string;
  secretKey: string;
}

describe.each(backends)('auth-token strategy on $name', (backend) => {
  let server: TestServer;
  let demo: AppKeys;
  let other: AppKeys;

  beforeAll(async () => {
    server = await startTestServer(backend);
    demo = { path: '/v1/apps/demo/chat', publishableKey: server.publishableKey, secretKey: server.secretKey };
    other = await createApp(server, 'acme', 'game');
    await enableAuthTokens(server, 'demo/chat');
    await enableAuthTokens(server, 'acme/game');
  });
  afterAll(() => server.close());

  const create = (userId: string, body: unknown = {}, app: AppKeys = demo, key: string | null = app.secretKey) =>
    server.api<CreatedAuthToken>('POST', `${app.path}/users/${userId}/auth-tokens`, {
      ...(key === null ? {} : { key }),
      body,
    });
  const list = (userId: string, app: AppKeys = demo, key: string | null = app.secretKey) =>
    server.api<{ items: AuthToken[] }>('GET', `${app.path}/users/${userId}/auth-tokens`, key === null ? {} : { key });
  const revoke = (userId: string, tokenId: string, app: AppKeys = demo, key: string | null = app.secretKey) =>
    server.api('DELETE', `${app.path}/users/${userId}/auth-tokens/${tokenId}`, key === null ? {} : { key });
  const login = (token: unknown, app: AppKeys = demo) =>
    server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body: { strategy: 'auth-token', token },
    });
  const storedTokens = (userId: string) =>
    server.tessera.services.store.db
      .selectFrom('auth_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();

  async function tokenFor(user: User, body: unknown = {}): Promise<CreatedAuthToken> {
    const response = await create(user.id, body);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  it('makes a token shown once, lists it without its secret, and logs the user in with it', async () => {
    const user = await signUp(server, { fullName: 'Ada' });
    const created = await create(user.id, { label: 'iPhone' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      token: expect.stringMatching(TOKEN_PATTERN),
      id: expect.any(String),
      userId: user.id,
      label: 'iPhone',
      createdAt: expect.any(String),
      expiresAt: null,
      lastUsedAt: null,
    });
    expect(created.body.token.startsWith(`at_${created.body.id}.`)).toBe(true);

    const listed = await list(user.id);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      {
        id: created.body.id,
        userId: user.id,
        label: 'iPhone',
        createdAt: created.body.createdAt,
        expiresAt: null,
        lastUsedAt: null,
      },
    ]);
    const secret = created.body.token.split('.')[1]!;
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(JSON.stringify(listed.body)).not.toMatch(/hash/i);

    const session = await login(created.body.token);
    expect(session.status).toBe(201);
    expect(session.body).toMatchObject({
      authentication: { strategy: 'auth-token' },
      user: { id: user.id, fullName: 'Ada' },
    });
    const me = await server.api('GET', `${demo.path}/me`, { token: session.body.accessToken });
    expect(me.body).toMatchObject({ id: user.id });
    // Long-lived: the same token logs in again, each time as a new session.
    const again = await login(created.body.token);
    expect(again.status).toBe(201);
    expect(again.body.session.id).not.toBe(session.body.session.id);
  });

  it('stores only a SHA-256 hash of the secret', async () => {
    const user = await signUp(server);
    const { token } = await tokenFor(user);
    const rows = await storedTokens(user.id);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token.split('.')[1]);
    expect(rows[0]!.secret_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is refused while the app has not enabled it', async () => {
    const user = await signUp(server);
    const { token } = await tokenFor(user);
    await patchStrategy(server, 'demo/chat', { enabled: false });
    try {
      const response = await login(token);
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({
        error: { code: 'strategy_disabled', details: { strategy: 'auth-token' } },
      });
    } finally {
      await enableAuthTokens(server, 'demo/chat');
    }
  });

  it('needs the secret key to make, list and revoke tokens', async () => {
    const user = await signUp(server);
    const { id } = await tokenFor(user);
    for (const call of [
      () => create(user.id, {}, demo, demo.publishableKey),
      () => list(user.id, demo, demo.publishableKey),
      () => revoke(user.id, id, demo, demo.publishableKey),
    ]) {
      const response = await call();
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ error: { code: 'forbidden' } });
    }
    for (const call of [
      () => create(user.id, {}, demo, null),
      () => list(user.id, demo, null),
      () => revoke(user.id, id, demo, null),
    ]) {
      expect((await call()).body).toMatchObject({ error: { code: 'missing_credentials', status: 401 } });
    }
    expect(await storedTokens(user.id)).toHaveLength(1);
    expect((await login((await tokenFor(user)).token)).status).toBe(201);
  });

  it('answers user_not_found for a user the app does not have', async () => {
    const unknown = '01900000-0000-7000-8000-000000000000';
    expect((await create(unknown)).body).toMatchObject({ error: { code: 'user_not_found', status: 404 } });
    expect((await list(unknown)).body).toMatchObject({ error: { code: 'user_not_found', status: 404 } });
  });

  it('refuses bad bodies with invalid_request and makes no token', async () => {
    const user = await signUp(server);
    const ahead = (ms: number) => new Date(server.clock.now() + ms).toISOString();
    const bodies: unknown[] = [
      { expiresIn: 3600, expiresAt: ahead(HOUR) },
      { expiresIn: 59 },
      { expiresIn: 1.5 * 3600 + 0.5 },
      { expiresIn: '3600' },
      { expiresAt: ahead(-1000) },
      { expiresAt: ahead(30_000) },
      { expiresAt: ahead(11 * 366 * 24 * HOUR) },
      { expiresAt: 'tomorrow' },
      { label: '' },
      { label: 'x'.repeat(129) },
      { scope: 'admin' },
      [],
    ];
    for (const body of bodies) {
      const response = await create(user.id, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
    expect(await storedTokens(user.id)).toEqual([]);
  });

  it('accepts an empty request body as a token without label or expiry', async () => {
    const user = await signUp(server);
    const response = await server.api<CreatedAuthToken>('POST', `${demo.path}/users/${user.id}/auth-tokens`, {
      key: demo.secretKey,
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ label: null, expiresAt: null });
  });

  it('stops working at its expiry, given as expiresIn or expiresAt', async () => {
    const user = await signUp(server);
    const byLifetime = await tokenFor(user, { expiresIn: 3600 });
    const byInstant = await tokenFor(user, { expiresAt: new Date(server.clock.now() + 2 * HOUR).toISOString() });
    expect(byLifetime.expiresAt).toBe(new Date(server.clock.now() + HOUR).toISOString());
    expect(byInstant.expiresAt).toBe(new Date(server.clock.now() + 2 * HOUR).toISOString());
    server.clock.advance(HOUR - 1000);
    expect((await login(byLifetime.token)).status).toBe(201);
    server.clock.advance(1000);
    expect((await login(byLifetime.token)).body).toMatchObject({
      error: { code: 'invalid_token', status: 401, message: 'The auth token has expired.' },
    });
    expect((await login(byInstant.token)).status).toBe(201);
    server.clock.advance(HOUR);
    expect((await login(byInstant.token)).body).toMatchObject({ error: { code: 'invalid_token' } });
    // Expired tokens are no longer listed.
    expect((await list(user.id)).body.items).toEqual([]);
  });

  it('revokes a token: no new logins, sessions it made go on', async () => {
    const user = await signUp(server);
    const kept = await tokenFor(user, { label: 'kept' });
    const revoked = await tokenFor(user, { label: 'lost' });
    const session = await login(revoked.token);
    expect(session.status).toBe(201);

    const response = await revoke(user.id, revoked.id);
    expect(response.status).toBe(204);
    expect((await login(revoked.token)).body).toMatchObject({
      error: { code: 'invalid_token', status: 401, message: 'The auth token has been revoked.' },
    });
    expect((await server.api('GET', `${demo.path}/me`, { token: session.body.accessToken })).status).toBe(200);
    expect((await list(user.id)).body.items.map((item) => item.label)).toEqual(['kept']);
    expect((await login(kept.token)).status).toBe(201);
    // Revoking again changes nothing and is not an error.
    expect((await revoke(user.id, revoked.id)).status).toBe(204);
  });

  it("answers token_not_found for an unknown token or another user's", async () => {
    const owner = await signUp(server);
    const stranger = await signUp(server);
    const { id, token } = await tokenFor(owner);
    expect((await revoke(owner.id, 'AAAAAAAAAAAAAAAA')).body).toMatchObject({
      error: { code: 'token_not_found', status: 404 },
    });
    expect((await revoke(stranger.id, id)).body).toMatchObject({ error: { code: 'token_not_found', status: 404 } });
    expect((await login(token)).status).toBe(201);
  });

  it('refuses malformed, forged and foreign credentials with invalid_token', async () => {
    const user = await signUp(server);
    const { token, id } = await tokenFor(user);
    const local = await server.api<AuthenticationResult>('POST', `${demo.path}/authentication`, {
      key: demo.publishableKey,
      body: { strategy: 'local', email: user.email, password: 'correct horse battery staple' },
    });
    const forged = [
      `at_${id}.${'A'.repeat(43)}`,
      `at_${'B'.repeat(16)}.${token.split('.')[1]}`,
      token.replace(/^at_/, 'rt_'),
      `${token}x`,
      'at_nonsense',
      ' '.repeat(10),
      server.adminToken, // an admin token (`adm_…`) is not an auth token
      server.secretKey,
      local.body.reconnectToken,
      local.body.accessToken.slice(0, 256),
    ];
    for (const candidate of forged) {
      const response = await login(candidate);
      expect(response.status, candidate).toBe(401);
      expect(response.body).toMatchObject({ error: { code: 'invalid_token' } });
    }
    for (const body of [
      { strategy: 'auth-token' },
      { strategy: 'auth-token', token: '' },
      { strategy: 'auth-token', token: 42 },
      { strategy: 'auth-token', token, extra: 1 },
      { strategy: 'auth-token', token: 'x'.repeat(257) },
    ]) {
      const response = await server.api('POST', `${demo.path}/authentication`, { key: demo.publishableKey, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });

  it('refuses a disabled user with user_disabled, and lets it back in once enabled', async () => {
    const user = await signUp(server);
    const { token } = await tokenFor(user);
    const setDisabled = (disabled: boolean) =>
      server.api('PATCH', `${demo.path}/users/${user.id}`, { key: demo.secretKey, body: { disabled } });
    expect((await setDisabled(true)).status).toBe(200);
    expect((await login(token)).body).toMatchObject({ error: { code: 'user_disabled', status: 401 } });
    expect((await setDisabled(false)).status).toBe(200);
    expect((await login(token)).status).toBe(201);
  });

  it('records its last use at most once a minute', async () => {
    const user = await signUp(server);
    const { token } = await tokenFor(user);
    const lastUsed = async () => (await list(user.id)).body.items[0]!.lastUsedAt;
    const first = server.clock.now();
    await login(token);
    expect(await lastUsed()).toBe(new Date(first).toISOString());
    server.clock.advance(30_000);
    await login(token);
    expect(await lastUsed()).toBe(new Date(first).toISOString());
    server.clock.advance(30_000);
    await login(token);
    expect(await lastUsed()).toBe(new Date(first + 60_000).toISOString());
  });

  it('goes away with its user', async () => {
    const user = await signUp(server);
    const { token } = await tokenFor(user);
    expect((await server.api('DELETE', `${demo.path}/users/${user.id}`, { key: demo.secretKey })).status).toBe(204);
    expect(await storedTokens(user.id)).toEqual([]);
    expect((await login(token)).body).toMatchObject({ error: { code: 'invalid_token' } });
  });

  it(`allows ${MAX_ACTIVE_AUTH_TOKENS} active tokens per user, then auth_token_limit until one is revoked`, async () => {
    const user = await signUp(server);
    const made: CreatedAuthToken[] = [];
    for (let index = 0; index < MAX_ACTIVE_AUTH_TOKENS; index += 1) made.push(await tokenFor(user));
    const refused = await create(user.id);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: { code: 'auth_token_limit', details: { limit: MAX_ACTIVE_AUTH_TOKENS } },
    });
    expect((await list(user.id)).body.items).toHaveLength(MAX_ACTIVE_AUTH_TOKENS);
    expect((await revoke(user.id, made[0]!.id)).status).toBe(204);
    expect((await create(user.id)).status).toBe(201);
  });

  it('keeps apps apart: tokens, users and revocations never cross', async () => {
    const user = await signUp(server);
    const { token, id } = await tokenFor(user);
    // Another app's login with this app's token.
    expect((await login(token, other)).body).toMatchObject({ error: { code: 'invalid_token', status: 401 } });
    // Another app's secret key, on its own app, cannot reach this app's user or token.
    expect((await create(user.id, {}, other)).body).toMatchObject({ error: { code: 'user_not_found' } });
    expect((await list(user.id, other)).body).toMatchObject({ error: { code: 'user_not_found' } });
    expect((await revoke(user.id, id, other)).body).toMatchObject({ error: { code: 'token_not_found' } });
    // …nor this app's routes.
    expect((await create(user.id, {}, demo, other.secretKey)).body).toMatchObject({
      error: { code: 'invalid_api_key' },
    });
    expect((await login(token)).status).toBe(201);

    // The other app's own tokens work there only.
    const signup = await server.api<User>('POST', `${other.path}/users`, {
      key: other.secretKey,
      body: { email: 'game-player@example.com', password: 'correct horse battery staple' },
    });
    const theirs = await create(signup.body.id, {}, other);
    expect(theirs.status).toBe(201);
    expect((await login(theirs.body.token, other)).body).toMatchObject({ user: { id: signup.body.id } });
    expect((await login(theirs.body.token)).body).toMatchObject({ error: { code: 'invalid_token' } });
  });
});

async function patchStrategy(server: TestServer, app: string, settings: Record<string, unknown>): Promise<void> {
  const response = await server.api('PATCH', `/v1/admin/apps/${app}`, {
    token: server.adminToken,
    body: { settings: { strategies: { 'auth-token': settings } } },
  });
  if (response.status !== 200) throw new Error(`settings refused: ${JSON.stringify(response.body)}`);
}

const enableAuthTokens = (server: TestServer, app: string) => patchStrategy(server, app, { enabled: true });

async function createApp(server: TestServer, namespace: string, name: string): Promise<AppKeys> {
  const admin = { token: server.adminToken };
  expect((await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: namespace } })).status).toBe(201);
  expect(
    (await server.api('POST', `/v1/admin/namespaces/${namespace}/apps`, { ...admin, body: { name } })).status,
  ).toBe(201);
  const key = async (kind: string) =>
    (
      await server.api<{ key: string }>('POST', `/v1/admin/apps/${namespace}/${name}/keys`, {
        ...admin,
        body: { kind },
      })
    ).body.key;
  return {
    path: `/v1/apps/${namespace}/${name}`,
    publishableKey: await key('publishable'),
    secretKey: await key('secret'),
  };
}
