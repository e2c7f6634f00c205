import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connect, realtimeUrl, refusedUpgrade } from '../helpers/realtime.js';
import { startTestServer, type ApiResponse, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

// Browsers on another origin: each app lists the origins whose pages may call it
// (settings.allowedOrigins); REST answers them with CORS headers, WebSocket upgrades check them.

const PAGE = 'https://app.example.com';
const FOREIGN = 'https://evil.example.net';
const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
];

const corsHeadersOf = (response: ApiResponse<unknown>) => CORS_HEADERS.filter((name) => response.headers.has(name));

describe.each(backends)('allowed origins on $name', (backend) => {
  let server: TestServer;
  /** Allows PAGE. */
  let app: TestApp;
  /** Allows nothing: the default. */
  let other: TestApp;
  /** Allows every origin. */
  let open: TestApp;
  const admin = () => ({ token: server.adminToken });
  const settingsOf = async (target: TestApp) =>
    (
      await server.api<{ settings: { allowedOrigins: string[] } }>(
        'GET',
        `/v1/admin/apps/${target.namespace}/${target.name}`,
        admin(),
      )
    ).body.settings;
  const patch = (target: TestApp, settings: unknown) =>
    server.api('PATCH', `/v1/admin/apps/${target.namespace}/${target.name}`, { ...admin(), body: { settings } });
  const preflight = (target: TestApp, path: string, origin?: string) =>
    server.api('OPTIONS', `${target.path}${path}`, {
      headers: {
        ...(origin === undefined ? {} : { origin }),
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-tessera-key',
      },
    });
  const signUpAndLogIn = async (target: TestApp, origin: string) => {
    const email = uniqueEmail('cors');
    const headers = { origin };
    const signup = await server.api<User>('POST', `${target.path}/users`, {
      key: target.publishableKey,
      headers,
      body: { email, password: PASSWORD },
    });
    const login = await server.api<AuthenticationResult>('POST', `${target.path}/authentication`, {
      key: target.publishableKey,
      headers,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    return { signup, login, email };
  };

  beforeAll(async () => {
    server = await startTestServer(backend);
    app = await createApp(server);
    other = await createApp(server);
    open = await createApp(server, { allowedOrigins: ['*'] });
    const allowed = await patch(app, { allowedOrigins: [PAGE, 'http://127.0.0.1:8080'] });
    if (allowed.status !== 200) throw new Error(`settings refused: ${JSON.stringify(allowed.body)}`);
  });
  afterAll(() => server.close());

  it('allows no origin by default', async () => {
    expect((await settingsOf(other)).allowedOrigins).toEqual([]);
    expect((await server.api('GET', '/v1/admin/apps/demo/chat', admin())).body).toMatchObject({
      settings: { allowedOrigins: [] },
    });
  });

  it('answers a preflight from an allowed origin with 204, the methods, headers and max age, and no credentials', async () => {
    const response = await preflight(app, '/authentication', PAGE);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(response.headers.get('vary')).toBe('Origin');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, PATCH, DELETE');
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, x-tessera-key, x-request-id',
    );
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.has('access-control-allow-credentials')).toBe(false);
    // Any path of the app: the preflight of GET /me and of DELETE /me/sessions/{id} too.
    expect((await preflight(app, '/me/sessions/some-id', PAGE)).status).toBe(204);
  });

  it('answers a real signup, login and GET /me from an allowed origin with the CORS headers', async () => {
    const { signup, login } = await signUpAndLogIn(app, PAGE);
    const me = await server.api<User>('GET', `${app.path}/me`, {
      token: login.body.accessToken,
      headers: { origin: PAGE },
    });
    for (const [response, status] of [
      [signup, 201],
      [login, 201],
      [me, 200],
    ] as const) {
      expect(response.status).toBe(status);
      expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
      expect(response.headers.get('vary')).toBe('Origin');
      expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after');
      expect(response.headers.has('access-control-allow-credentials')).toBe(false);
    }
    expect(me.body.id).toBe(signup.body.id);
    // An error answer carries them as well, so the page can read the error's code.
    const refused = await server.api('GET', `${app.path}/me`, { token: 'not-a-token', headers: { origin: PAGE } });
    expect(refused).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
    expect(refused.headers.get('access-control-allow-origin')).toBe(PAGE);
  });

  it('sends no CORS headers to a foreign origin and refuses its preflight with 403 origin_not_allowed', async () => {
    const { login } = await signUpAndLogIn(app, FOREIGN);
    // The server answers (a form or a server may send this); without the headers a browser page may not read it.
    expect(login.status).toBe(201);
    expect(corsHeadersOf(login)).toEqual([]);
    expect(login.headers.get('vary')).toBe('Origin');
    const me = await server.api('GET', `${app.path}/me`, {
      token: login.body.accessToken,
      headers: { origin: FOREIGN },
    });
    expect(me.status).toBe(200);
    expect(corsHeadersOf(me)).toEqual([]);

    for (const origin of [FOREIGN, 'https://app.example.com:8443', 'http://app.example.com', 'null']) {
      const refused = await preflight(app, '/authentication', origin);
      expect(refused, origin).toMatchObject({
        status: 403,
        body: { error: { code: 'origin_not_allowed', status: 403, details: { origin } } },
      });
      expect(corsHeadersOf(refused), origin).toEqual([]);
    }
  });

  it('adds no CORS headers to a request without an Origin, and refuses an OPTIONS without one', async () => {
    const { login } = await signUpAndLogIn(open, PAGE);
    const me = await server.api('GET', `${open.path}/me`, { token: login.body.accessToken });
    expect(me.status).toBe(200);
    expect(corsHeadersOf(me)).toEqual([]);
    // The app answers pages of other origins differently: a cache must keep the answers apart.
    expect(me.headers.get('vary')).toBe('Origin');
    // An app that allows no other origin answers every request alike.
    const keys = await server.api('GET', `${other.path}/.well-known/jwks.json`);
    expect(keys.status).toBe(200);
    expect(keys.headers.has('vary')).toBe(false);
    expect(await preflight(open, '/me')).toMatchObject({
      status: 403,
      body: { error: { code: 'origin_not_allowed', details: { origin: null } } },
    });
  });

  it('answers every origin with "*" when the list is ["*"]', async () => {
    const answer = await preflight(open, '/authentication', FOREIGN);
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    const { login } = await signUpAndLogIn(open, 'http://localhost:5173');
    expect(login.status).toBe(201);
    expect(login.headers.get('access-control-allow-origin')).toBe('*');
    expect(login.headers.has('access-control-allow-credentials')).toBe(false);
  });

  it("does not lend one app's origins to another", async () => {
    const refused = await preflight(other, '/authentication', PAGE);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'origin_not_allowed' } } });
    const { login } = await signUpAndLogIn(other, PAGE);
    expect(login.status).toBe(201);
    expect(corsHeadersOf(login)).toEqual([]);
  });

  it('answers the preflight of an unknown app with 404 app_not_found', async () => {
    const response = await server.api('OPTIONS', '/v1/apps/demo/nope/authentication', {
      headers: { origin: PAGE, 'access-control-request-method': 'POST' },
    });
    expect(response).toMatchObject({ status: 404, body: { error: { code: 'app_not_found' } } });
    expect(corsHeadersOf(response)).toEqual([]);
  });

  it('applies a changed list at once, and an emptied list allows nothing', async () => {
    const target = await createApp(server, { allowedOrigins: [PAGE] });
    expect((await preflight(target, '/me', PAGE)).status).toBe(204);
    expect((await patch(target, { allowedOrigins: [] })).status).toBe(200);
    expect((await preflight(target, '/me', PAGE)).status).toBe(403);
    expect((await patch(target, { allowedOrigins: ['http://127.0.0.1:9000'] })).status).toBe(200);
    expect((await preflight(target, '/me', 'http://127.0.0.1:9000')).status).toBe(204);
  });

  it.each([
    ['a path', ['https://app.example.com/'], 'write https://app.example.com'],
    ['a path and query', ['https://app.example.com/login?next=1'], 'write https://app.example.com'],
    ['no scheme', ['app.example.com'], 'scheme://host[:port]'],
    ['another scheme', ['ftp://app.example.com'], 'https or http'],
    ['the default port', ['https://app.example.com:443'], 'write https://app.example.com'],
    ['an uppercase host', ['https://App.Example.com'], 'write https://app.example.com'],
    ['credentials', ['https://user:pw@app.example.com'], 'write https://app.example.com'],
    ['"*" beside an origin', ['*', PAGE], '"*" allows every origin and must be the only entry'],
    ['an origin twice', [PAGE, PAGE], 'is listed twice'],
    ['"null"', ['null'], 'is not an origin'],
  ])('refuses %s with 400 invalid_request and changes nothing', async (_what, allowedOrigins, hint) => {
    const before = await settingsOf(app);
    const refused = await patch(app, { allowedOrigins, publicSignup: false });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const message = (refused.body as { error: { message: string } }).error.message;
    expect(message).toMatch(/^allowedOrigins: /);
    expect(message).toContain(hint);
    expect(await settingsOf(app)).toEqual(before);
    expect((await preflight(app, '/me', PAGE)).status).toBe(204);
  });

  it('refuses a value of the wrong type, and a bad list at app creation, creating nothing', async () => {
    const before = await settingsOf(app);
    for (const allowedOrigins of ['https://app.example.com', [42], ['']]) {
      expect(await patch(app, { allowedOrigins }), JSON.stringify(allowedOrigins)).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request' } },
      });
    }
    expect(await settingsOf(app)).toEqual(before);
    const created = await server.api('POST', `/v1/admin/namespaces/${other.namespace}/apps`, {
      ...admin(),
      body: { name: 'bad-origins', settings: { allowedOrigins: ['https://app.example.com/'] } },
    });
    expect(created).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect((await server.api('GET', `/v1/admin/apps/${other.namespace}/bad-origins`, admin())).status).toBe(404);
  });

  describe('WebSocket upgrades', () => {
    it('refuses a foreign Origin with 403 origin_not_allowed', async () => {
      for (const target of [app, other]) {
        const refused = await refusedUpgrade(realtimeUrl(server, target), { origin: FOREIGN });
        expect(refused.status).toBe(403);
        expect(refused.body).toEqual({
          error: {
            code: 'origin_not_allowed',
            status: 403,
            message: expect.stringContaining('allowedOrigins'),
            details: { origin: FOREIGN },
          },
        });
      }
      // PAGE is app's, not other's.
      expect(await refusedUpgrade(realtimeUrl(server, other), { origin: PAGE })).toMatchObject({
        status: 403,
        body: { error: { code: 'origin_not_allowed' } },
      });
    });

    it('accepts an allowed Origin, any Origin with "*", the server\'s own origin and no Origin', async () => {
      const accepted = [
        { target: app, origin: PAGE },
        { target: open, origin: FOREIGN },
        { target: other, origin: server.url },
        { target: other, origin: undefined },
      ];
      for (const { target, origin } of accepted) {
        const client = await connect(server, {
          app: target,
          key: target.publishableKey,
          headers: origin === undefined ? {} : { origin },
        });
        const { login, email } = await signUpAndLogIn(target, PAGE);
        expect(login.status).toBe(201);
        const authenticated = await client.request({
          type: 'authenticate',
          strategy: 'local',
          email,
          password: PASSWORD,
        });
        expect(authenticated, String(origin)).toMatchObject({ type: 'authenticated', user: { email } });
        await client.close();
      }
    });
  });
});
