import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type ErrorAnswer = { error: { code: string; status: number; details?: unknown } };

describe.each(backends)('the anonymous strategy on $name', (backend) => {
  let server: TestServer;
  const admin = () => ({ token: server.adminToken });
  const setAnonymous = (settings: Record<string, unknown>, app = 'demo/chat') =>
    server.api('PATCH', `/v1/admin/apps/${app}`, {
      ...admin(),
      body: { settings: { strategies: { anonymous: settings } } },
    });
  const login = (body: Record<string, unknown> = {}, base = APP, key = server.publishableKey) =>
    server.api<AuthenticationResult>('POST', `${base}/authentication`, {
      key,
      body: { strategy: 'anonymous', ...body },
    });
  const loggedIn = async (body: Record<string, unknown> = {}) => {
    const response = await login(body);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };
  const me = (token: string, base = APP) => server.api<ErrorAnswer>('GET', `${base}/me`, { token });
  const reconnect = (token: string) =>
    server.api<AuthenticationResult & ErrorAnswer>('POST', `${APP}/authentication`, {
      key: server.publishableKey,
      body: { strategy: 'reconnect', token },
    });
  const logout = (token: string) => server.api('DELETE', `${APP}/authentication`, { token });
  const upgrade = (token: string | undefined, body: Record<string, unknown>) =>
    server.api<AuthenticationResult & ErrorAnswer>('POST', `${APP}/me/upgrade`, {
      ...(token === undefined ? {} : { token }),
      body,
    });
  const userRow = (id: string) =>
    server.tessera.services.store.db
      .selectFrom('users')
      .select(['kind', 'ended_at', 'expires_at'])
      .where('id', '=', id)
      .executeTakeFirst();

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  it('is off unless the app enables it, and refusing creates no user', async () => {
    const before = await snapshotDatabase(server);
    const refused = await login({ displayName: 'Superman' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'strategy_disabled', details: { strategy: 'anonymous' } } });
    expect(await snapshotDatabase(server)).toBe(before);
    const enabled = await setAnonymous({ enabled: true });
    expect(enabled.body).toMatchObject({
      settings: { strategies: { anonymous: { enabled: true, retention: 7 * 24 * 3600 } } },
    });
  });

  it('makes a new anonymous user at every login, named by the optional display name', async () => {
    const named = await loggedIn({ displayName: '  Ｓｕｐｅｒ   man \u00A0' });
    expect(named).toMatchObject({
      authentication: { strategy: 'anonymous' },
      user: { kind: 'anonymous', fullName: 'Super man', username: null, email: null },
    });
    expect(named.reconnectToken).toMatch(/^rt_/);
    expect((await me(named.accessToken)).body).toMatchObject({ id: named.user.id, kind: 'anonymous' });
    const unnamed = await loggedIn();
    expect(unnamed.user).toMatchObject({ kind: 'anonymous', fullName: null });
    expect((await loggedIn({ displayName: '   ' })).user.fullName).toBeNull();
    expect(new Set([named.user.id, unnamed.user.id]).size).toBe(2);
    expect(await userRow(named.user.id)).toEqual({ kind: 'anonymous', ended_at: null, expires_at: null });
  });

  it('refuses a bad display name or body with invalid_request and changes nothing', async () => {
    const before = await snapshotDatabase(server);
    const cases: [Record<string, unknown>, string][] = [
      [{ displayName: 'x'.repeat(129) }, '/displayName'],
      [{ displayName: 'Clark\u0000Kent' }, '/displayName'],
      [{ displayName: 'Clark\u202EtneK' }, '/displayName'],
      [{ displayName: 42 }, '/displayName'],
      [{ displayName: 'y'.repeat(600) }, '/displayName'],
      [{ fullName: 'Clark' }, '/'],
    ];
    for (const [body, path] of cases) {
      const response = await login(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({
        error: {
          code: 'invalid_request',
          details: expect.arrayContaining([
            expect.objectContaining({ path: path === '/' ? expect.any(String) : path }),
          ]),
        },
      });
    }
    expect(await snapshotDatabase(server)).toBe(before);
  });

  it('ends the user when it logs out: its tokens answer user_ended, and a new login is a new user', async () => {
    const first = await loggedIn({ displayName: 'Lois' });
    expect((await logout(first.accessToken)).status).toBe(200);
    expect((await userRow(first.user.id))?.ended_at).toBe(server.clock.now());
    const stale = await me(first.accessToken);
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('user_ended');
    expect((await reconnect(first.reconnectToken)).body).toMatchObject({ error: { code: 'user_ended', status: 401 } });
    expect(
      (
        await server.api('POST', `${APP}/authentication`, {
          key: server.publishableKey,
          body: { strategy: 'access-token', accessToken: first.accessToken },
        })
      ).body,
    ).toMatchObject({ error: { code: 'user_ended' } });
    const again = await loggedIn({ displayName: 'Lois' });
    expect(again.user.id).not.toBe(first.user.id);
  });

  it('ends the user when its session is revoked', async () => {
    const anonymous = await loggedIn();
    expect(
      (await server.api('DELETE', `${APP}/me/sessions/${anonymous.session.id}`, { token: anonymous.accessToken }))
        .status,
    ).toBe(204);
    expect((await me(anonymous.accessToken)).body.error.code).toBe('user_ended');
  });

  it('ends the user when a spent reconnect token comes back (the whole chain is revoked)', async () => {
    const anonymous = await loggedIn();
    const next = await reconnect(anonymous.reconnectToken);
    expect(next.status).toBe(201);
    expect(next.body.user.id).toBe(anonymous.user.id);
    server.clock.advance(31_000);
    expect((await reconnect(anonymous.reconnectToken)).body.error.code).toBe('reconnect_token_reused');
    expect((await reconnect(next.body.reconnectToken)).body.error.code).toBe('user_ended');
  });

  it('keeps the user while another session of it is live: only the last one ends it', async () => {
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      ...admin(),
      body: { settings: { strategies: { key: { enabled: true } } } },
    });
    try {
      const anonymous = await loggedIn();
      const second = await server.api<AuthenticationResult>('POST', `${APP}/authentication`, {
        key: server.publishableKey,
        body: { strategy: 'key', userId: anonymous.user.id, key: server.publishableKey },
      });
      expect(second.status).toBe(201);
      await logout(anonymous.accessToken);
      expect((await userRow(anonymous.user.id))?.ended_at).toBeNull();
      expect((await me(second.body.accessToken)).status).toBe(200);
      await logout(second.body.accessToken);
      expect((await me(second.body.accessToken)).body.error.code).toBe('user_ended');
      // An ended user cannot be logged into again by any strategy.
      const refused = await server.api('POST', `${APP}/authentication`, {
        key: server.publishableKey,
        body: { strategy: 'key', userId: anonymous.user.id, key: server.publishableKey },
      });
      expect(refused.body).toMatchObject({ error: { code: 'user_ended' } });
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        ...admin(),
        body: { settings: { strategies: { key: { enabled: false } } } },
      });
    }
  });

  it('ends the user once its session expires (maintenance job), and removes it after the retention', async () => {
    const anonymous = await loggedIn();
    server.clock.advance(2 * HOUR + 1000);
    expect((await reconnect(anonymous.reconnectToken)).body.error.code).toBe('session_expired');
    const report = await server.tessera.services.maintenance.run();
    expect(report.endedAnonymous).toBeGreaterThanOrEqual(1);
    const row = await userRow(anonymous.user.id);
    expect(row).toEqual({ kind: 'anonymous', ended_at: server.clock.now(), expires_at: server.clock.now() + 7 * DAY });
    expect((await reconnect(anonymous.reconnectToken)).body.error.code).toBe('user_ended');

    server.clock.advance(7 * DAY);
    expect((await server.tessera.services.maintenance.run()).removedExpired).toBeGreaterThanOrEqual(1);
    expect(await userRow(anonymous.user.id)).toBeUndefined();
    expect(
      (await server.api('GET', `${APP}/users/${anonymous.user.id}`, { key: server.secretKey })).body,
    ).toMatchObject({ error: { code: 'user_not_found' } });
    expect((await reconnect(anonymous.reconnectToken)).status).toBe(401);
  });

  it('does not end a user whose session is live, nor a user just made', async () => {
    const anonymous = await loggedIn();
    await server.tessera.services.maintenance.run();
    expect((await userRow(anonymous.user.id))?.ended_at).toBeNull();
    expect((await me(anonymous.accessToken)).status).toBe(200);
  });

  it('ends a user at once through AnonymousUsers.end (what the realtime gateway calls on the last disconnect)', async () => {
    const anonymous = await loggedIn();
    const { apps, users, anonymousUsers } = server.tessera.services;
    const app = await apps.getApp('demo', 'chat');
    expect(await anonymousUsers.end(app, await users.get(app, anonymous.user.id))).toBe(true);
    expect((await me(anonymous.accessToken)).body.error.code).toBe('user_ended');
    const registered = await signUpAndLogIn(server);
    expect(await anonymousUsers.end(app, await users.get(app, registered.user.id))).toBe(false);
    expect((await me(registered.login.accessToken)).status).toBe(200);
  });

  it('on the last connection closing, ends only a user still anonymous: not one upgraded or deleted meanwhile', async () => {
    const { apps, users, anonymousUsers } = server.tessera.services;
    const app = await apps.getApp('demo', 'chat');
    const lastConnectionClosed = (id: string) => anonymousUsers.lastConnectionClosed(app, { id, kind: 'anonymous' });

    const anonymous = await loggedIn();
    await lastConnectionClosed(anonymous.user.id);
    expect((await me(anonymous.accessToken)).body.error.code).toBe('user_ended');
    // Told twice (two nodes, say): the second changes nothing.
    await lastConnectionClosed(anonymous.user.id);

    const upgraded = await loggedIn();
    const response = await upgrade(upgraded.accessToken, { email: uniqueEmail(), password: PASSWORD });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    await lastConnectionClosed(upgraded.user.id);
    expect((await me(response.body.accessToken)).status).toBe(200);

    const deleted = await loggedIn();
    await users.delete(app, deleted.user.id);
    await expect(lastConnectionClosed(deleted.user.id)).resolves.toBeUndefined();

    const registered = await signUpAndLogIn(server);
    await anonymousUsers.lastConnectionClosed(app, { id: registered.user.id, kind: 'registered' });
    expect((await me(registered.login.accessToken)).status).toBe(200);
  });

  describe('upgrade to a registered user', () => {
    it('keeps the id, sets login and password, answers new tokens and ends the old session', async () => {
      const anonymous = await loggedIn({ displayName: 'Clark' });
      const email = uniqueEmail('clark');
      server.clock.advance(1000);
      const upgraded = await upgrade(anonymous.accessToken, {
        email,
        username: `clark-${anonymous.user.id.slice(-6)}`,
        password: PASSWORD,
        tags: ['upgraded'],
      });
      expect(upgraded.status, JSON.stringify(upgraded.body)).toBe(200);
      expect(upgraded.body).toMatchObject({
        authentication: { strategy: 'upgrade' },
        user: { id: anonymous.user.id, kind: 'registered', email, fullName: 'Clark', tags: ['upgraded'] },
      });
      expect(upgraded.body.session.id).not.toBe(anonymous.session.id);
      expect(JSON.stringify(upgraded.body)).not.toMatch(/argon2|password/i);

      expect((await me(upgraded.body.accessToken)).body).toMatchObject({ id: anonymous.user.id, kind: 'registered' });
      expect((await me(anonymous.accessToken)).body).toMatchObject({
        error: { code: 'session_revoked', details: { reason: 'user_upgraded' } },
      });
      expect((await reconnect(anonymous.reconnectToken)).body.error.code).toBe('session_revoked');
      expect(await userRow(anonymous.user.id)).toEqual({ kind: 'registered', ended_at: null, expires_at: null });

      const byPassword = await server.api<AuthenticationResult>('POST', `${APP}/authentication`, {
        key: server.publishableKey,
        body: { strategy: 'local', email, password: PASSWORD },
      });
      expect(byPassword.body.user.id).toBe(anonymous.user.id);
      // A registered user is not ephemeral: ending its sessions leaves it alone.
      await logout(upgraded.body.accessToken);
      await logout(byPassword.body.accessToken);
      server.clock.advance(2 * HOUR);
      await server.tessera.services.maintenance.run();
      expect((await userRow(anonymous.user.id))?.ended_at).toBeNull();
    });

    it('answers not_anonymous for any other kind of user', async () => {
      const registered = await signUpAndLogIn(server);
      const response = await upgrade(registered.login.accessToken, { email: uniqueEmail(), password: PASSWORD });
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ error: { code: 'not_anonymous', details: { kind: 'registered' } } });
    });

    it('refuses a taken login, a weak password and a body without login, changing nothing', async () => {
      const taken = await signUpAndLogIn(server);
      const anonymous = await loggedIn({ displayName: 'Bruce' });
      const before = await snapshotDatabase(server);
      const cases: [Record<string, unknown>, number, string][] = [
        [{ email: taken.email.toUpperCase(), password: PASSWORD }, 409, 'user_exists'],
        [{ email: uniqueEmail(), password: 'short' }, 400, 'weak_password'],
        [{ email: uniqueEmail(), password: 'password123' }, 400, 'weak_password'],
        [{ password: PASSWORD }, 400, 'invalid_request'],
        [{ email: 'not-an-email', password: PASSWORD }, 400, 'invalid_request'],
        [{ email: uniqueEmail(), password: PASSWORD, kind: 'registered' }, 400, 'invalid_request'],
      ];
      for (const [body, status, code] of cases) {
        const response = await upgrade(anonymous.accessToken, body);
        expect(response.status, JSON.stringify(body)).toBe(status);
        expect(response.body.error.code, JSON.stringify(body)).toBe(code);
      }
      expect(await snapshotDatabase(server)).toBe(before);
      expect((await me(anonymous.accessToken)).body).toMatchObject({ kind: 'anonymous' });
    });

    it('needs an access token, and respects an app that closed public signup', async () => {
      expect((await upgrade(undefined, { email: uniqueEmail(), password: PASSWORD })).body.error.code).toBe(
        'missing_credentials',
      );
      const anonymous = await loggedIn();
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        ...admin(),
        body: { settings: { publicSignup: false } },
      });
      try {
        const refused = await upgrade(anonymous.accessToken, { email: uniqueEmail(), password: PASSWORD });
        expect(refused.status).toBe(403);
        expect(refused.body.error.code).toBe('signup_disabled');
      } finally {
        await server.api('PATCH', '/v1/admin/apps/demo/chat', {
          ...admin(),
          body: { settings: { publicSignup: true } },
        });
      }
    });

    it('cannot upgrade an ended user', async () => {
      const anonymous = await loggedIn();
      await logout(anonymous.accessToken);
      expect((await upgrade(anonymous.accessToken, { email: uniqueEmail(), password: PASSWORD })).body.error.code).toBe(
        'user_ended',
      );
    });
  });

  describe('per-app isolation', () => {
    let other: { base: string; publishableKey: string };
    beforeAll(async () => {
      other = await createApp(server, 'anon-iso', 'other');
    });

    it('is off in an app that did not enable it, whatever another app says', async () => {
      expect((await login({}, other.base, other.publishableKey)).body).toMatchObject({
        error: { code: 'strategy_disabled' },
      });
      expect((await login({}, APP, other.publishableKey)).body).toMatchObject({ error: { code: 'invalid_api_key' } });
    });

    it("keeps each app's anonymous users to that app", async () => {
      await setAnonymous({ enabled: true }, 'anon-iso/other');
      const here = await loggedIn();
      const there = await login({ displayName: 'Elsewhere' }, other.base, other.publishableKey);
      expect(there.status).toBe(201);
      expect((await me(here.accessToken, other.base)).body.error.code).toBe('invalid_token');
      expect((await me(there.body.accessToken, APP)).body.error.code).toBe('invalid_token');
      const crossUpgrade = await server.api<ErrorAnswer>('POST', `${other.base}/me/upgrade`, {
        token: here.accessToken,
        body: { email: uniqueEmail(), password: PASSWORD },
      });
      expect(crossUpgrade.body.error.code).toBe('invalid_token');
      // Logging out in one app ends only that app's user.
      await logout(here.accessToken);
      expect((await me(there.body.accessToken, other.base)).status).toBe(200);
      const retention = await setAnonymous({ enabled: true, retention: 60 }, 'anon-iso/other');
      expect(retention.status).toBe(200);
      const invalid = await setAnonymous({ enabled: true, retention: -1 }, 'anon-iso/other');
      expect(invalid.body).toMatchObject({ error: { code: 'invalid_request' } });
    });
  });
});

async function createApp(
  server: TestServer,
  namespace: string,
  name: string,
): Promise<{ base: string; publishableKey: string }> {
  const admin = { token: server.adminToken };
  expect((await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: namespace } })).status).toBe(201);
  expect(
    (await server.api('POST', `/v1/admin/namespaces/${namespace}/apps`, { ...admin, body: { name } })).status,
  ).toBe(201);
  const key = await server.api<{ key: string }>('POST', `/v1/admin/apps/${namespace}/${name}/keys`, {
    ...admin,
    body: { kind: 'publishable' },
  });
  return { base: `/v1/apps/${namespace}/${name}`, publishableKey: key.body.key };
}
