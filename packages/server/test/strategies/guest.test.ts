import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { PASSWORD } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
const SECOND = 1000;
const DAY = 24 * 3600 * SECOND;

type ErrorAnswer = { error: { code: string; status: number; details?: unknown } };

describe.each(backends)('the guest strategy on $name', (backend) => {
  let server: TestServer;
  const setGuest = (settings: Record<string, unknown>, app = 'demo/chat') =>
    server.api<ErrorAnswer & { settings: { strategies: { guest: unknown } } }>('PATCH', `/v1/admin/apps/${app}`, {
      token: server.adminToken,
      body: { settings: { strategies: { guest: settings } } },
    });
  const login = (body: Record<string, unknown>, base = APP, key = server.publishableKey) =>
    server.api<AuthenticationResult & ErrorAnswer>('POST', `${base}/authentication`, {
      key,
      body: { strategy: 'guest', ...body },
    });
  const loggedIn = async (fullName: string) => {
    const response = await login({ fullName });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };
  const me = (token: string, base = APP) => server.api<ErrorAnswer>('GET', `${base}/me`, { token });
  const reconnect = (token: string) =>
    server.api<AuthenticationResult & ErrorAnswer>('POST', `${APP}/authentication`, {
      key: server.publishableKey,
      body: { strategy: 'reconnect', token },
    });
  const userRow = (id: string) =>
    server.tessera.services.store.db
      .selectFrom('users')
      .select(['kind', 'full_name', 'expires_at', 'ended_at'])
      .where('id', '=', id)
      .executeTakeFirst();
  const sessionCount = async (userId: string) =>
    (await server.tessera.services.store.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute())
      .length;

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  it('is off unless the app enables it, and refusing creates no user', async () => {
    const before = await snapshotDatabase(server);
    expect((await login({ fullName: 'Awesome Smith' })).body).toMatchObject({
      error: { code: 'strategy_disabled', status: 403 },
    });
    expect(await snapshotDatabase(server)).toBe(before);
    const enabled = await setGuest({ enabled: true, lifetime: 86_400 });
    expect(enabled.body.settings.strategies.guest).toEqual({ enabled: true, lifetime: 86_400 });
  });

  it('makes a named guest user that lasts one day, with a session that ends with it', async () => {
    const guest = await loggedIn(' Awesome   Smith ');
    expect(guest).toMatchObject({
      authentication: { strategy: 'guest' },
      user: { kind: 'guest', fullName: 'Awesome Smith', username: null, email: null },
    });
    const row = await userRow(guest.user.id);
    expect(row).toEqual({
      kind: 'guest',
      full_name: 'Awesome Smith',
      expires_at: server.clock.now() + DAY,
      ended_at: null,
    });
    // The default session lifetime is 30 days; a guest's session is capped at the guest's end.
    expect(Date.parse(guest.session.expiresAt)).toBe(server.clock.now() + DAY);
    expect(Date.parse(guest.authentication.reconnectTokenExpiresAt)).toBeLessThanOrEqual(server.clock.now() + DAY);
    expect((await me(guest.accessToken)).body).toMatchObject({ id: guest.user.id, kind: 'guest' });
    const another = await loggedIn('Awesome Smith');
    expect(another.user.id).not.toBe(guest.user.id);
  });

  it('keeps the guest when its session ends, until its lifetime is over', async () => {
    const guest = await loggedIn('Kept Guest');
    await server.api('DELETE', `${APP}/authentication`, { token: guest.accessToken });
    expect(await userRow(guest.user.id)).toMatchObject({ kind: 'guest', ended_at: null });
    await server.tessera.services.maintenance.run();
    expect(await userRow(guest.user.id)).toBeDefined();
  });

  it("refuses an expired guest's tokens, and the clean-up removes it with its sessions", async () => {
    await setGuest({ enabled: true, lifetime: 600 });
    try {
      const guest = await loggedIn('Short Stay');
      expect(Date.parse(guest.session.expiresAt)).toBe(server.clock.now() + 600 * SECOND);
      server.clock.advance(599 * SECOND);
      const stillHere = await reconnect(guest.reconnectToken);
      expect(stillHere.status).toBe(201);
      // No token outlives the guest, so that servers verifying offline stop accepting it in time.
      expect(Date.parse(stillHere.body.authentication.accessTokenExpiresAt)).toBeLessThanOrEqual(
        Date.parse(guest.session.expiresAt),
      );
      server.clock.advance(2 * SECOND);
      // Past its lifetime, before any clean-up: the guest is over.
      expect((await me(stillHere.body.accessToken)).body.error.code).toBe('token_expired');
      expect((await reconnect(stillHere.body.reconnectToken)).body.error.code).toBe('user_ended');

      const report = await server.tessera.services.maintenance.run();
      expect(report.removedExpired).toBeGreaterThanOrEqual(1);
      expect(await userRow(guest.user.id)).toBeUndefined();
      expect(await sessionCount(guest.user.id)).toBe(0);
      expect((await server.api('GET', `${APP}/users/${guest.user.id}`, { key: server.secretKey })).body).toMatchObject({
        error: { code: 'user_not_found' },
      });
      expect((await me(stillHere.body.accessToken)).status).toBe(401);
      expect((await reconnect(stillHere.body.reconnectToken)).body.error.code).toBe('invalid_token');
    } finally {
      await setGuest({ enabled: true, lifetime: 86_400 });
    }
  });

  it('removes only guests whose time is up', async () => {
    const early = await loggedIn('Early');
    server.clock.advance(DAY / 2);
    const late = await loggedIn('Late');
    server.clock.advance(DAY / 2);
    await server.tessera.services.maintenance.run();
    expect(await userRow(early.user.id)).toBeUndefined();
    expect(await userRow(late.user.id)).toBeDefined();
  });

  it('refuses a missing, blank, too long or hostile full name with invalid_request and changes nothing', async () => {
    const before = await snapshotDatabase(server);
    const bodies: Record<string, unknown>[] = [
      {},
      { fullName: '' },
      { fullName: ' \t ' },
      { fullName: 'x'.repeat(129) },
      { fullName: 'a\u0007b' },
      { fullName: 'a\u200Bb' },
      { fullName: ['Smith'] },
      { fullName: 'Smith', guest: '1' },
    ];
    for (const body of bodies) {
      const response = await login(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    expect(await snapshotDatabase(server)).toBe(before);
  });

  it('bounds the lifetime setting', async () => {
    for (const lifetime of [0, 299, 366 * 86_400, 'long']) {
      expect((await setGuest({ enabled: true, lifetime })).body, String(lifetime)).toMatchObject({
        error: { code: 'invalid_request' },
      });
    }
    expect((await setGuest({ enabled: true, lifetime: 300 })).status).toBe(200);
    await setGuest({ enabled: true, lifetime: 86_400 });
  });

  it('cannot be upgraded to a registered user', async () => {
    const guest = await loggedIn('No Password');
    const upgrade = await server.api<ErrorAnswer>('POST', `${APP}/me/upgrade`, {
      token: guest.accessToken,
      body: { email: 'guest-upgrade@example.com', password: PASSWORD },
    });
    expect(upgrade.body.error.code).toBe('not_anonymous');
  });

  describe('per-app isolation', () => {
    it("follows each app's own switch and lifetime, and its tokens stay in its app", async () => {
      const admin = { token: server.adminToken };
      await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: 'guest-iso' } });
      await server.api('POST', '/v1/admin/namespaces/guest-iso/apps', { ...admin, body: { name: 'other' } });
      const key = (
        await server.api<{ key: string }>('POST', '/v1/admin/apps/guest-iso/other/keys', {
          ...admin,
          body: { kind: 'publishable' },
        })
      ).body.key;
      const base = '/v1/apps/guest-iso/other';
      expect((await login({ fullName: 'Visitor' }, base, key)).body.error.code).toBe('strategy_disabled');
      await setGuest({ enabled: true, lifetime: 3600 }, 'guest-iso/other');
      const there = await login({ fullName: 'Visitor' }, base, key);
      expect(there.status).toBe(201);
      expect(Date.parse(there.body.session.expiresAt)).toBe(server.clock.now() + 3600 * SECOND);
      const here = await loggedIn('Visitor');
      expect(Date.parse(here.session.expiresAt)).toBe(server.clock.now() + DAY);
      expect((await me(there.body.accessToken, APP)).body.error.code).toBe('invalid_token');
      expect((await me(here.accessToken, base)).body.error.code).toBe('invalid_token');
      expect(
        (await server.api<ErrorAnswer>('GET', `${APP}/users/${there.body.user.id}`, { key: server.secretKey })).body
          .error.code,
      ).toBe('user_not_found');
    });
  });
});
