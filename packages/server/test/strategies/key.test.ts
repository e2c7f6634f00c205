import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStrategy } from '../../src/auth/strategies/key/index.js';
import { createLogger } from '../../src/logger.js';
import { UsersRepository } from '../../src/store/repositories/users.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { signUp, signUpAndLogIn } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';

type ErrorAnswer = { error: { code: string; status: number; details?: unknown } };

const enableKey = (server: TestServer, enabled: boolean, app = 'demo/chat') =>
  server.api('PATCH', `/v1/admin/apps/${app}`, {
    token: server.adminToken,
    body: { settings: { strategies: { key: { enabled } } } },
  });

const keyLogin = (server: TestServer, body: Record<string, unknown>, base = APP, headerKey = server.publishableKey) =>
  server.api<AuthenticationResult & ErrorAnswer>('POST', `${base}/authentication`, {
    key: headerKey,
    body: { strategy: 'key', ...body },
  });

describe.each(backends)('the key strategy on $name (development mode)', (backend) => {
  let server: TestServer;
  let user: User;
  beforeAll(async () => {
    server = await startTestServer(backend);
    user = await signUp(server, { fullName: 'Cometchat Uid 1' });
  });
  afterAll(() => server.close());

  it('is off by default, and refusing changes nothing', async () => {
    const before = await snapshotDatabase(server);
    const response = await keyLogin(server, { userId: user.id, key: server.publishableKey });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: { code: 'strategy_disabled', details: { strategy: 'key' } } });
    expect(await snapshotDatabase(server)).toBe(before);
    expect((await enableKey(server, true)).status).toBe(200);
  });

  it('logs in as the user with its id and the publishable key (CometChat auth-key login)', async () => {
    const response = await keyLogin(server, { userId: user.id, key: server.publishableKey });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      authentication: { strategy: 'key' },
      user: { id: user.id, fullName: 'Cometchat Uid 1' },
    });
    expect((await server.api('GET', `${APP}/me`, { token: response.body.accessToken })).body).toMatchObject({
      id: user.id,
    });
    const sessions = await server.api<{ items: { strategy: string }[] }>('GET', `${APP}/me/sessions`, {
      token: response.body.accessToken,
    });
    expect(sessions.body.items.map((session) => session.strategy)).toContain('key');
  });

  it('answers invalid_credentials for a user id the app does not have', async () => {
    for (const userId of ['no-such-user', '0190c3f0-0000-7000-8000-000000000000']) {
      const response = await keyLogin(server, { userId, key: server.publishableKey });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('invalid_credentials');
    }
  });

  it('answers invalid_api_key for a secret key, a malformed key, or a key of another app', async () => {
    const admin = { token: server.adminToken };
    await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: 'key-iso' } });
    await server.api('POST', '/v1/admin/namespaces/key-iso/apps', {
      ...admin,
      body: { name: 'other', settings: { strategies: { key: { enabled: true } } } },
    });
    const otherKey = (
      await server.api<{ key: string }>('POST', '/v1/admin/apps/key-iso/other/keys', {
        ...admin,
        body: { kind: 'publishable' },
      })
    ).body.key;
    const [prefix] = server.publishableKey.split('.');
    for (const key of [server.secretKey, otherKey, 'pk_nonsense', `${prefix}.${'A'.repeat(43)}`]) {
      const response = await keyLogin(server, { userId: user.id, key });
      expect(response.status, key.slice(0, 12)).toBe(401);
      expect(response.body.error.code).toBe('invalid_api_key');
    }
  });

  it('answers user_disabled for a disabled user', async () => {
    const disabled = await signUp(server);
    await server.api('PATCH', `${APP}/users/${disabled.id}`, { key: server.secretKey, body: { disabled: true } });
    const response = await keyLogin(server, { userId: disabled.id, key: server.publishableKey });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('user_disabled');
  });

  it('refuses a malformed body with invalid_request and changes nothing', async () => {
    const before = await snapshotDatabase(server);
    const bodies: Record<string, unknown>[] = [
      { userId: user.id },
      { key: server.publishableKey },
      { userId: '', key: server.publishableKey },
      { userId: 'u'.repeat(65), key: server.publishableKey },
      { userId: 7, key: server.publishableKey },
      { userId: user.id, key: server.publishableKey, password: 'x' },
    ];
    for (const body of bodies) {
      const response = await keyLogin(server, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    expect(await snapshotDatabase(server)).toBe(before);
  });

  it('keeps apps apart: a user id of another app is unknown here, and the other app decides for itself', async () => {
    const base = '/v1/apps/key-iso/other';
    const otherKey = (
      await server.api<{ key: string }>('POST', '/v1/admin/apps/key-iso/other/keys', {
        token: server.adminToken,
        body: { kind: 'publishable' },
      })
    ).body.key;
    const there = await server.api<User>('POST', `${base}/users`, {
      key: otherKey,
      body: { email: 'there@example.com', password: 'correct horse battery staple' },
    });
    expect((await keyLogin(server, { userId: there.body.id, key: server.publishableKey })).body.error.code).toBe(
      'invalid_credentials',
    );
    expect((await keyLogin(server, { userId: there.body.id, key: otherKey }, base, otherKey)).status).toBe(201);
    await enableKey(server, false, 'key-iso/other');
    expect((await keyLogin(server, { userId: there.body.id, key: otherKey }, base, otherKey)).body.error.code).toBe(
      'strategy_disabled',
    );
    expect((await keyLogin(server, { userId: user.id, key: server.publishableKey })).status).toBe(201);
  });

  it('logs every use at warn level with the app and the user id, never the key', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const { apps, store, sessions } = server.tessera.services;
    const strategy = new KeyStrategy({
      mode: 'development',
      apps,
      users: new UsersRepository(store.db),
      sessions,
      logger,
    });
    const app = await apps.getApp('demo', 'chat');
    const context = { app, client: { userAgent: null, ip: null } };
    expect(
      (await strategy.authenticate({ strategy: 'key', userId: user.id, key: server.publishableKey }, context)).user.id,
    ).toBe(user.id);
    await expect(
      strategy.authenticate({ strategy: 'key', userId: 'nobody', key: server.publishableKey }, context),
    ).rejects.toMatchObject({ code: 'invalid_credentials' });
    await expect(
      strategy.authenticate({ strategy: 'key', userId: user.id, key: server.secretKey }, context),
    ).rejects.toMatchObject({
      code: 'invalid_api_key',
    });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toHaveLength(3);
    for (const entry of entries) expect(entry).toMatchObject({ level: 40, app: 'demo/chat', strategy: 'key' });
    expect(entries.map((entry) => entry.userId)).toEqual([user.id, 'nobody', user.id]);
    expect(entries.map((entry) => entry.code)).toEqual([undefined, 'invalid_credentials', 'invalid_api_key']);
    const secretParts = [server.publishableKey, server.secretKey].flatMap((key) => key.split('.'));
    for (const line of lines) for (const part of secretParts) expect(line).not.toContain(part);
  });
});

describe.each(backends)('the key strategy on $name (production mode)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { mode: 'production' });
  });
  afterAll(() => server.close());

  it('is refused with strategy_disabled even when the app enables it', async () => {
    const { login, user } = await signUpAndLogIn(server);
    expect(login.user.id).toBe(user.id);
    expect((await enableKey(server, true)).status).toBe(200);
    const before = await snapshotDatabase(server);
    const response = await keyLogin(server, { userId: user.id, key: server.publishableKey });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({
      error: { code: 'strategy_disabled', details: { strategy: 'key', reason: 'production_mode' } },
    });
    expect(await snapshotDatabase(server)).toBe(before);
  });
});
