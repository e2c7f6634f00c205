import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { PASSWORD, signUpAndLogIn } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
const MINUTE = 60_000;

type ErrorAnswer = { error: { code: string; status: number; details?: unknown } };

describe.each(backends)('the access-token strategy on $name', (backend) => {
  let server: TestServer;
  const reauthenticate = (accessToken: string, strategy = 'access-token', base = APP, key = server.publishableKey) =>
    server.api<AuthenticationResult & ErrorAnswer>('POST', `${base}/authentication`, {
      key,
      body: { strategy, accessToken },
    });
  const me = (token: string) => server.api<ErrorAnswer>('GET', `${APP}/me`, { token });

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  it('continues the same session with new tokens (Feathers reAuthenticate)', async () => {
    const { login, user } = await signUpAndLogIn(server);
    server.clock.advance(MINUTE);
    const again = await reauthenticate(login.accessToken);
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({
      authentication: { strategy: 'access-token' },
      session: { id: login.session.id },
      user: { id: user.id },
    });
    expect(again.body.accessToken).not.toBe(login.accessToken);
    expect(again.body.reconnectToken).not.toBe(login.reconnectToken);
    expect(Date.parse(again.body.authentication.accessTokenExpiresAt)).toBeGreaterThan(
      Date.parse(login.authentication.accessTokenExpiresAt),
    );
    // One session, not two; the earlier reconnect token is superseded by the new one.
    const sessions = await server.api<{ items: { id: string }[] }>('GET', `${APP}/me/sessions`, {
      token: again.body.accessToken,
    });
    expect(sessions.body.items.map((session) => session.id)).toEqual([login.session.id]);
    expect((await me(again.body.accessToken)).status).toBe(200);
    // A superseded reconnect token is stale: presenting it is taken for theft and ends the session.
    const superseded = await server.api<ErrorAnswer>('POST', `${APP}/authentication`, {
      key: server.publishableKey,
      body: { strategy: 'reconnect', token: login.reconnectToken },
    });
    expect(superseded.body.error.code).toBe('reconnect_token_reused');
  });

  it('takes Feathers\' { strategy: "jwt", accessToken } as itself', async () => {
    const { login, user } = await signUpAndLogIn(server);
    const again = await reauthenticate(login.accessToken, 'jwt');
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({
      authentication: { strategy: 'access-token' },
      session: { id: login.session.id },
      user: { id: user.id },
    });
  });

  it('answers token_expired for an expired access token, though its session still lives', async () => {
    const { login } = await signUpAndLogIn(server);
    server.clock.advance(15 * MINUTE + 1000);
    for (const strategy of ['access-token', 'jwt']) {
      const response = await reauthenticate(login.accessToken, strategy);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('token_expired');
    }
  });

  it('answers session_revoked once the session was ended', async () => {
    const { login } = await signUpAndLogIn(server);
    await server.api('DELETE', `${APP}/authentication`, { token: login.accessToken });
    const response = await reauthenticate(login.accessToken);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: 'session_revoked', details: { reason: 'logout' } } });
  });

  it('counts as activity on the session, and answers session_expired once it is idle too long', async () => {
    const admin = { token: server.adminToken };
    await server.api('PATCH', '/v1/admin/apps/demo/chat', { ...admin, body: { settings: { sessionIdleTimeout: 60 } } });
    try {
      const { login } = await signUpAndLogIn(server);
      server.clock.advance(50_000);
      const first = await reauthenticate(login.accessToken);
      expect(first.status).toBe(201);
      server.clock.advance(50_000);
      const second = await reauthenticate(first.body.accessToken);
      expect(second.status).toBe(201);
      server.clock.advance(61_000);
      // The access token itself (15 minutes) is still valid; its session is not.
      const response = await reauthenticate(second.body.accessToken);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('session_expired');
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        ...admin,
        body: { settings: { sessionIdleTimeout: 7200 } },
      });
    }
  });

  it('answers user_disabled for a disabled user', async () => {
    const { login, user } = await signUpAndLogIn(server);
    await server.api('PATCH', `${APP}/users/${user.id}`, { key: server.secretKey, body: { disabled: true } });
    const response = await reauthenticate(login.accessToken);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('user_disabled');
  });

  it('answers invalid_token for forged and malformed tokens, and invalid_request for a bad body, changing nothing', async () => {
    const { login } = await signUpAndLogIn(server);
    const before = await snapshotDatabase(server);
    const [header, payload] = login.accessToken.split('.');
    for (const token of [
      `${header}.${payload}.${'A'.repeat(86)}`,
      'not-a-jwt',
      login.reconnectToken,
      server.publishableKey,
    ]) {
      const response = await reauthenticate(token);
      expect(response.status, token.slice(0, 20)).toBe(401);
      expect(response.body.error.code).toBe('invalid_token');
    }
    for (const body of [
      { strategy: 'access-token' },
      { strategy: 'access-token', accessToken: '' },
      { strategy: 'access-token', accessToken: 'x'.repeat(8193) },
      { strategy: 'access-token', accessToken: login.accessToken, extra: 1 },
    ]) {
      const response = await server.api<ErrorAnswer>('POST', `${APP}/authentication`, {
        key: server.publishableKey,
        body,
      });
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    expect(await snapshotDatabase(server)).toBe(before);
  });

  it('can be switched off per app', async () => {
    const { login } = await signUpAndLogIn(server);
    const admin = { token: server.adminToken };
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      ...admin,
      body: { settings: { strategies: { 'access-token': { enabled: false } } } },
    });
    try {
      for (const strategy of ['access-token', 'jwt']) {
        const response = await reauthenticate(login.accessToken, strategy);
        expect(response.status).toBe(403);
        expect(response.body).toMatchObject({
          error: { code: 'strategy_disabled', details: { strategy: 'access-token' } },
        });
      }
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        ...admin,
        body: { settings: { strategies: { 'access-token': { enabled: true } } } },
      });
    }
  });

  describe('per-app isolation', () => {
    it("refuses another app's access token with invalid_token", async () => {
      const admin = { token: server.adminToken };
      await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: 'at-iso' } });
      await server.api('POST', '/v1/admin/namespaces/at-iso/apps', { ...admin, body: { name: 'other' } });
      const otherKey = (
        await server.api<{ key: string }>('POST', '/v1/admin/apps/at-iso/other/keys', {
          ...admin,
          body: { kind: 'publishable' },
        })
      ).body.key;
      const base = '/v1/apps/at-iso/other';
      await server.api('POST', `${base}/users`, {
        key: otherKey,
        body: { email: 'elsewhere@example.com', password: PASSWORD },
      });
      const there = await server.api<AuthenticationResult>('POST', `${base}/authentication`, {
        key: otherKey,
        body: { strategy: 'local', email: 'elsewhere@example.com', password: PASSWORD },
      });
      expect(there.status).toBe(201);
      const { login } = await signUpAndLogIn(server);

      for (const strategy of ['access-token', 'jwt']) {
        expect((await reauthenticate(there.body.accessToken, strategy)).body.error.code).toBe('invalid_token');
        expect((await reauthenticate(login.accessToken, strategy, base, otherKey)).body.error.code).toBe(
          'invalid_token',
        );
      }
      expect((await reauthenticate(there.body.accessToken, 'access-token', base, otherKey)).status).toBe(201);
    });
  });
});
