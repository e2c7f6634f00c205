import type { Introspection, Session } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 15, item 3: token introspection (RFC 7662) for a server of the app's own that wants an
// online check: a logout, a disabled user or a kill switch shows at once, which offline checks miss.

type ErrorAnswer = { error: { code: string; status: number; details?: unknown } };

describe.each(backends)('token introspection on $name (issue 15)', (backend) => {
  let server: TestServer;
  let app: TestApp;

  beforeAll(async () => {
    server = await startTestServer(backend);
    app = await createApp(server, { accessTokenClaims: { roles: true, tags: true, customData: ['plan'] } });
  });
  afterAll(() => server.close());

  const introspect = (token: string, key = app.secretKey, on: TestApp = app) =>
    server.api<Introspection & ErrorAnswer>('POST', `${on.path}/introspect`, { key, body: { token } });
  const introspectForm = (form: string, key = app.secretKey) =>
    server.api<Introspection & ErrorAnswer>('POST', `${app.path}/introspect`, {
      key,
      rawBody: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  const inactive = { status: 200, body: { active: false } };
  const scopedKey = async (scopes: string[]): Promise<string> => {
    const created = await server.api<{ key: string }>('POST', `/v1/admin/apps/${app.namespace}/${app.name}/keys`, {
      token: server.adminToken,
      body: { kind: 'secret', scopes },
    });
    expect(created.status).toBe(201);
    return created.body.key;
  };
  const sessionsOf = async (userId: string) =>
    (await server.api<{ items: Session[] }>('GET', `${app.path}/users/${userId}/sessions`, { key: app.secretKey })).body
      .items;

  it("answers an active token with RFC 7662's fields, Tessera's and the token's claims", async () => {
    const { user, login } = await signUpAndLogInTo(server, app, {
      username: `ada${Date.now()}`,
      tags: ['beta'],
      customData: { plan: 'pro', notes: 'private' },
    });
    const answer = await introspect(login.accessToken);
    expect(answer.status).toBe(200);
    const [, payload] = login.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    expect(answer.body).toEqual({
      active: true,
      token_type: 'Bearer',
      client_id: `${app.namespace}/${app.name}`,
      username: user.username,
      sub: user.id,
      sid: login.session.id,
      kind: 'registered',
      exp: claims.exp,
      iat: claims.iat,
      iss: `${server.url}${app.path}`,
      aud: `${app.namespace}/${app.name}`,
      jti: claims.jti,
      roles: [],
      tags: ['beta'],
      customData: { plan: 'pro' },
    });
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('leaves out username for a user without one', async () => {
    const { login } = await signUpAndLogInTo(server, app);
    const answer = await introspect(login.accessToken);
    expect(answer.body.active).toBe(true);
    expect(answer.body).not.toHaveProperty('username');
  });

  it('takes the token form-encoded, as RFC 7662 sends it, with a token_type_hint', async () => {
    const { user, login } = await signUpAndLogInTo(server, app);
    const form = new URLSearchParams({ token: login.accessToken, token_type_hint: 'access_token' }).toString();
    expect(await introspectForm(form)).toMatchObject({ status: 200, body: { active: true, sub: user.id } });
    // Any hint: the token is looked up as what it is (RFC 7662 §2.1).
    const hinted = new URLSearchParams({ token: login.accessToken, token_type_hint: 'refresh_token' }).toString();
    expect(await introspectForm(hinted)).toMatchObject({ status: 200, body: { active: true } });
    expect(await introspectForm('token=garbage')).toMatchObject(inactive);
  });

  it('answers 400 invalid_request without a token, or with it twice', async () => {
    const missing = await server.api<ErrorAnswer>('POST', `${app.path}/introspect`, { key: app.secretKey, body: {} });
    expect(missing).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await introspectForm('token_type_hint=access_token')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request' } },
    });
    expect(await introspectForm('token=a&token=b')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request' } },
    });
  });

  it('answers only active: false for a logged-out session, a disabled user and a reconnect token', async () => {
    const loggedOut = (await signUpAndLogInTo(server, app)).login;
    const logout = await server.api('DELETE', `${app.path}/authentication`, { token: loggedOut.accessToken });
    expect(logout.status).toBeLessThan(300);
    expect(await introspect(loggedOut.accessToken)).toMatchObject(inactive);

    const { user, login } = await signUpAndLogInTo(server, app);
    expect((await introspect(login.accessToken)).body.active).toBe(true);
    const disabled = await server.api('PATCH', `${app.path}/users/${user.id}`, {
      key: app.secretKey,
      body: { disabled: true },
    });
    expect(disabled.status).toBe(200);
    const answer = await introspect(login.accessToken);
    // Nothing but `active`: never why (RFC 7662 §2.2).
    expect(answer.body).toEqual({ active: false });

    const other = (await signUpAndLogInTo(server, app)).login;
    expect(await introspect(other.reconnectToken)).toMatchObject(inactive);
  });

  it('answers active: false for an expired token, a token of another app and garbage', async () => {
    const { login } = await signUpAndLogInTo(server, app);
    const otherApp = await createApp(server);
    const foreign = (await signUpAndLogInTo(server, otherApp)).login;
    expect(await introspect(foreign.accessToken)).toEqual(expect.objectContaining(inactive));
    // The other app's own key knows its token.
    expect((await introspect(foreign.accessToken, otherApp.secretKey, otherApp)).body.active).toBe(true);
    for (const garbage of ['garbage', 'a.b.c', `${login.accessToken}x`, 'x'.repeat(8192)])
      expect(await introspect(garbage), garbage.slice(0, 20)).toMatchObject(inactive);

    server.clock.advance(15 * 60 * 1000 + 1000);
    expect(await introspect(login.accessToken)).toMatchObject(inactive);
  });

  it('is no activity of the user: the session is not touched', async () => {
    const { user, login } = await signUpAndLogInTo(server, app);
    const [before] = await sessionsOf(user.id);
    server.clock.advance(5 * 60 * 1000);
    expect((await introspect(login.accessToken)).body.active).toBe(true);
    const [after] = await sessionsOf(user.id);
    expect(after?.lastSeenAt).toBe(before?.lastSeenAt);
    expect(after?.idleExpiresAt).toBe(before?.idleExpiresAt);
    // The user's own call is activity, and moves it: the check above would have seen a touch.
    expect((await server.api('GET', `${app.path}/me`, { token: login.accessToken })).status).toBe(200);
    const [touched] = await sessionsOf(user.id);
    expect(touched?.lastSeenAt).not.toBe(before?.lastSeenAt);
  });

  it('needs the secret key with sessions:read', async () => {
    const { login } = await signUpAndLogInTo(server, app);
    expect(await introspect(login.accessToken, app.publishableKey)).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    const others = await scopedKey(['users:read', 'sessions:write']);
    expect(await introspect(login.accessToken, others)).toMatchObject({
      status: 403,
      body: { error: { code: 'insufficient_scope', details: { required: 'sessions:read' } } },
    });
    expect((await introspect(login.accessToken, await scopedKey(['sessions:read']))).body.active).toBe(true);
    const unauthenticated = await server.api<ErrorAnswer>('POST', `${app.path}/introspect`, {
      body: { token: login.accessToken },
    });
    expect(unauthenticated.status).toBe(401);
  });

  it("does not count inactive tokens as the caller's guesses", async () => {
    const strict = await createApp(server, { rateLimits: { failedCredentials: { perAddress: 2 } } });
    const { login } = await signUpAndLogInTo(server, strict);
    for (let attempt = 0; attempt < 5; attempt += 1)
      expect(await introspect(`forged-${attempt}`, strict.secretKey, strict)).toMatchObject(inactive);
    expect((await server.api('GET', `${strict.path}/me`, { token: login.accessToken })).status).toBe(200);
    expect((await introspect(login.accessToken, strict.secretKey, strict)).body.active).toBe(true);
    // The limit is in force: the same forged tokens sent as the caller's own credential lock it out.
    const forged = [];
    for (let attempt = 0; attempt < 3; attempt += 1)
      forged.push((await server.api('GET', `${strict.path}/me`, { token: `forged-${attempt}` })).status);
    expect(forged).toEqual([401, 401, 429]);
  });

  it('is in the OpenAPI document with its scope and answer shape', async () => {
    const { body } = await server.api<{ paths: Record<string, Record<string, Record<string, unknown>>> }>(
      'GET',
      '/docs/json',
    );
    const operation = body.paths['/v1/apps/{namespace}/{app}/introspect']?.post;
    expect(operation?.security).toEqual([{ apiKey: ['sessions:read'] }]);
    expect(JSON.stringify(operation?.responses)).toContain('token_type');
  });
});
