import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, logIn, signUp, signUpAndLogIn, uniqueEmail } from '../helpers/users.js';

const HOUR = 3_600_000;

describe.each(backends)('signup, login, /me and logout on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  it('signs up, logs in with email or username, reads /me and logs out', async () => {
    const email = uniqueEmail('Alice');
    const user = await signUp(server, {
      email,
      username: 'Alice-1',
      fullName: 'Alice Liddell',
      tags: ['beta'],
      customData: { plan: 'pro' },
    });
    expect(user).toMatchObject({
      kind: 'registered',
      email,
      username: 'Alice-1',
      fullName: 'Alice Liddell',
      tags: ['beta'],
      customData: { plan: 'pro' },
      disabled: false,
    });
    expect(JSON.stringify(user)).not.toMatch(/password|argon2/i);

    const byEmail = await logIn(server, { email: email.toUpperCase(), password: PASSWORD });
    expect(byEmail).toMatchObject({ authentication: { strategy: 'local' }, user: { id: user.id } });
    expect(byEmail.reconnectToken).toMatch(/^rt_/);
    expect(byEmail.session.id).toEqual(expect.any(String));
    const byUsername = await logIn(server, { username: 'alice-1', password: PASSWORD });
    expect(byUsername.session.id).not.toBe(byEmail.session.id);

    const me = await server.api('GET', '/v1/apps/demo/chat/me', { token: byEmail.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, email });
    expect(me.headers.get('cache-control')).toBe('no-store');

    const logout = await server.api('DELETE', '/v1/apps/demo/chat/authentication', { token: byEmail.accessToken });
    expect(logout.status).toBe(200);
    const after = await server.api('GET', '/v1/apps/demo/chat/me', { token: byEmail.accessToken });
    expect(after.status).toBe(401);
    expect(after.body).toEqual({
      error: { code: 'session_revoked', message: expect.any(String), status: 401, details: { reason: 'logout' } },
      // Feathers' fields (issue 14).
      name: 'NotAuthenticated',
      message: expect.any(String),
      code: 401,
      className: 'not-authenticated',
      data: { code: 'session_revoked', details: { reason: 'logout' } },
    });
    // The other session is untouched.
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: byUsername.accessToken })).status).toBe(200);
  });

  it('issues an access token that anyone can verify offline against the JWKS', async () => {
    const { login, user } = await signUpAndLogIn(server);
    const header = decodeProtectedHeader(login.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    const jwks = createRemoteJWKSet(new URL(`${server.appUrl}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(login.accessToken, jwks, {
      issuer: server.appUrl,
      audience: 'demo/chat',
      currentDate: new Date(server.clock.now()),
    });
    expect(payload).toMatchObject({ sub: user.id, sid: login.session.id, iss: server.appUrl, aud: 'demo/chat' });
    expect(payload.exp! - payload.iat!).toBe(15 * 60);
    expect(payload.jti).toEqual(expect.any(String));
  });

  it('answers an unknown user and a wrong password with the same error', async () => {
    const { email } = await signUpAndLogIn(server);
    const wrong = await server.api('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'local', email, password: 'not the password' },
    });
    const unknown = await server.api('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'local', email: uniqueEmail('nobody'), password: PASSWORD },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toMatchObject({ error: { code: 'invalid_credentials' } });
  });

  it("lists the user's sessions and ends one of them", async () => {
    const { login, email } = await signUpAndLogIn(server);
    const second = await logIn(server, { email, password: PASSWORD });
    const list = await server.api<{ items: { id: string; current: boolean }[] }>(
      'GET',
      '/v1/apps/demo/chat/me/sessions',
      { token: login.accessToken },
    );
    expect(list.status).toBe(200);
    expect(list.body.items.map((session) => session.id).sort()).toEqual([login.session.id, second.session.id].sort());
    expect(list.body.items.find((session) => session.current)?.id).toBe(login.session.id);

    const ended = await server.api('DELETE', `/v1/apps/demo/chat/me/sessions/${second.session.id}`, {
      token: login.accessToken,
    });
    expect(ended.status).toBe(204);
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: second.accessToken })).body).toMatchObject({
      error: { code: 'session_revoked' },
    });
    const missing = await server.api('DELETE', `/v1/apps/demo/chat/me/sessions/${second.session.id}`, {
      token: login.accessToken,
    });
    expect(missing.body).toMatchObject({ error: { code: 'session_not_found' } });
  });

  it("cannot end another user's session", async () => {
    const alice = await signUpAndLogIn(server);
    const bob = await signUpAndLogIn(server);
    const attempt = await server.api('DELETE', `/v1/apps/demo/chat/me/sessions/${bob.login.session.id}`, {
      token: alice.login.accessToken,
    });
    expect(attempt.status).toBe(404);
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: bob.login.accessToken })).status).toBe(200);
  });

  it('expires an access token after its lifetime with token_expired', async () => {
    const { login } = await signUpAndLogIn(server);
    server.clock.advance(15 * 60_000 + 1000);
    const response = await server.api('GET', '/v1/apps/demo/chat/me', { token: login.accessToken });
    expect(response.body).toMatchObject({ error: { code: 'token_expired', status: 401 } });
  });

  it('ends an idle session after 2 hours, and activity keeps it alive', async () => {
    const idle = await signUpAndLogIn(server);
    const active = await signUpAndLogIn(server);
    // Activity every 10 minutes for 3 hours keeps `active` alive; `idle` is left alone.
    for (let minutes = 10; minutes <= 180; minutes += 10) {
      server.clock.advance(10 * 60_000);
      const reconnect = await server.api<{ accessToken: string; reconnectToken: string }>(
        'POST',
        '/v1/apps/demo/chat/authentication',
        {
          key: server.publishableKey,
          body: { strategy: 'reconnect', token: active.login.reconnectToken },
        },
      );
      expect(reconnect.status).toBe(201);
      active.login.reconnectToken = reconnect.body.reconnectToken;
      active.login.accessToken = reconnect.body.accessToken;
      expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: active.login.accessToken })).status).toBe(200);
    }
    const expired = await server.api('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'reconnect', token: idle.login.reconnectToken },
    });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ error: { code: 'session_expired' } });
  });

  it('ends a session at its absolute lifetime however active it is', async () => {
    const admin = { token: server.adminToken };
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      ...admin,
      body: { settings: { sessionIdleTimeout: 3 * 24 * 3600 } },
    });
    try {
      const { login } = await signUpAndLogIn(server);
      let { reconnectToken } = login;
      // Active every 23 hours: 31 refreshes reach hour 713 of the 720-hour lifetime.
      for (let step = 1; step <= 31; step += 1) {
        server.clock.advance(23 * HOUR);
        const response = await server.api<{ reconnectToken: string }>('POST', '/v1/apps/demo/chat/authentication', {
          key: server.publishableKey,
          body: { strategy: 'reconnect', token: reconnectToken },
        });
        expect(response.status, JSON.stringify(response.body)).toBe(201);
        reconnectToken = response.body.reconnectToken;
      }
      server.clock.advance(8 * HOUR);
      const last = await server.api('POST', '/v1/apps/demo/chat/authentication', {
        key: server.publishableKey,
        body: { strategy: 'reconnect', token: reconnectToken },
      });
      expect(last.status).toBe(401);
      expect(last.body).toMatchObject({ error: { code: 'session_expired' } });
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        ...admin,
        body: { settings: { sessionIdleTimeout: 2 * 3600 } },
      });
    }
  });

  it('never issues an access token that outlives its session', async () => {
    const admin = { token: server.adminToken };
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      ...admin,
      body: { settings: { sessionLifetime: 600, accessTokenTtl: 900 } },
    });
    try {
      const { login } = await signUpAndLogIn(server);
      const sessionEnd = Date.parse(login.session.expiresAt);
      expect(Date.parse(login.authentication.accessTokenExpiresAt)).toBe(Math.floor(sessionEnd / 1000) * 1000);
      const { exp } = decodeJwt(login.accessToken);
      expect(exp! * 1000).toBeLessThanOrEqual(sessionEnd);
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        ...admin,
        body: { settings: { sessionLifetime: 30 * 24 * 3600, accessTokenTtl: 900 } },
      });
    }
  });

  it("refuses a disabled user's tokens with user_disabled, and its logins as a wrong password would (issue 12)", async () => {
    const { login, user, email } = await signUpAndLogIn(server);
    const disabled = await server.api('PATCH', `/v1/apps/demo/chat/users/${user.id}`, {
      key: server.secretKey,
      body: { disabled: true },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ disabled: true });
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: login.accessToken })).body).toMatchObject({
      error: { code: 'user_disabled', status: 401 },
    });
    const relogin = await server.api('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    // Even the right password says only invalid_credentials: neither it nor being disabled is revealed to a guesser.
    expect(relogin.body).toMatchObject({ error: { code: 'invalid_credentials', status: 401 } });
    const guess = await server.api('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'local', email, password: 'wrong password!' },
    });
    expect(guess.body).toMatchObject({ error: { code: 'invalid_credentials' } });
  });
});
