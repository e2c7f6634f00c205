import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type RequestOptions, type TestServer } from '../helpers/server.js';
import { PASSWORD, signUpAndLogIn } from '../helpers/users.js';

/**
 * The app's routes sit in scopes by the credential they take, and each scope's one hook checks it
 * (issue 13, item 7). Every route of a scope refuses a wrong credential with the codes it always
 * had, and after its body is validated, as the handlers did before the hooks.
 */
type Scope = 'publishable' | 'secret' | 'user' | 'none';

interface Route {
  scope: Scope;
  method: string;
  /** As the OpenAPI document names it. */
  path: string;
  /** A body the route's schema accepts, so that only the credential is wrong. */
  body?: unknown;
}

const signup = { email: 'scoped@example.com', password: PASSWORD };
const routes: Route[] = [
  { scope: 'publishable', method: 'POST', path: '/authentication', body: { strategy: 'local', ...signup } },
  { scope: 'publishable', method: 'POST', path: '/users', body: signup },
  { scope: 'secret', method: 'GET', path: '/users' },
  { scope: 'secret', method: 'GET', path: '/users/{userId}' },
  { scope: 'secret', method: 'PATCH', path: '/users/{userId}', body: { fullName: 'Scoped' } },
  { scope: 'secret', method: 'DELETE', path: '/users/{userId}' },
  { scope: 'secret', method: 'GET', path: '/users/{userId}/sessions' },
  { scope: 'secret', method: 'DELETE', path: '/users/{userId}/sessions' },
  { scope: 'secret', method: 'DELETE', path: '/users/{userId}/sessions/{sessionId}' },
  { scope: 'secret', method: 'POST', path: '/users/{userId}/auth-tokens', body: {} },
  { scope: 'secret', method: 'GET', path: '/users/{userId}/auth-tokens' },
  { scope: 'secret', method: 'DELETE', path: '/users/{userId}/auth-tokens/{tokenId}' },
  { scope: 'secret', method: 'POST', path: '/introspect', body: { token: 'not.a.jwt' } },
  { scope: 'secret', method: 'GET', path: '/events' },
  { scope: 'user', method: 'DELETE', path: '/authentication' },
  { scope: 'user', method: 'GET', path: '/me' },
  { scope: 'user', method: 'PATCH', path: '/me', body: { fullName: 'Scoped' } },
  { scope: 'user', method: 'POST', path: '/me/upgrade', body: signup },
  { scope: 'user', method: 'GET', path: '/me/sessions' },
  { scope: 'user', method: 'DELETE', path: '/me/sessions' },
  { scope: 'user', method: 'DELETE', path: '/me/sessions/{sessionId}' },
  { scope: 'none', method: 'GET', path: '/.well-known/jwks.json' },
];

/** Wrong credentials per scope, and the refusal each has always had. */
const refusals: Record<Scope, { send: 'none' | 'publishable' | 'access' | 'forged'; status: number; code: string }[]> =
  {
    publishable: [
      { send: 'none', status: 401, code: 'missing_credentials' },
      { send: 'access', status: 401, code: 'missing_credentials' },
    ],
    secret: [
      { send: 'none', status: 401, code: 'missing_credentials' },
      { send: 'publishable', status: 403, code: 'forbidden' },
      { send: 'access', status: 401, code: 'missing_credentials' },
    ],
    user: [
      { send: 'none', status: 401, code: 'missing_credentials' },
      { send: 'publishable', status: 401, code: 'missing_credentials' },
      { send: 'forged', status: 401, code: 'invalid_token' },
    ],
    none: [],
  };

const APP = '/v1/apps/{namespace}/{app}';
const concrete = (path: string) => `/v1/apps/demo/chat${path.replace(/\{(userId|sessionId|tokenId)\}/g, 'nope')}`;

describe.each(backends)('credential scopes on $name', (backend) => {
  let server: TestServer;
  let accessToken: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    accessToken = (await signUpAndLogIn(server)).login.accessToken;
  });
  afterAll(() => server.close());

  it('lists every app route of the OpenAPI document in a scope', async () => {
    const { body } = await server.api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/docs/json');
    const documented = Object.entries(body.paths)
      .filter(([path]) => path.startsWith(`${APP}/`))
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.slice(APP.length)}`),
      );
    expect(documented.sort()).toEqual(routes.map((route) => `${route.method} ${route.path}`).sort());
  });

  it("refuses each route's wrong credentials with the codes they always had", async () => {
    const credentials: Record<string, RequestOptions> = {
      none: {},
      publishable: { key: server.publishableKey },
      access: { token: accessToken },
      forged: { token: 'not.a.jwt' },
    };
    const failures: string[] = [];
    for (const route of routes) {
      for (const refusal of refusals[route.scope]) {
        const options = { ...credentials[refusal.send], ...(route.body === undefined ? {} : { body: route.body }) };
        const response = await server.api<{ error?: { code: string } }>(route.method, concrete(route.path), options);
        if (response.status !== refusal.status || response.body?.error?.code !== refusal.code)
          failures.push(
            `${route.method} ${route.path} with ${refusal.send}: ${response.status} ${JSON.stringify(response.body)}`,
          );
      }
    }
    expect(failures).toEqual([]);
  });

  it('validates the body before the credential, except at login, whose strategy reads the body after the key', async () => {
    const unknownField = { body: { unknown: true } };
    const answers = await Promise.all([
      server.api('POST', concrete('/users'), unknownField),
      server.api('PATCH', concrete('/users/{userId}'), unknownField),
      server.api('PATCH', concrete('/me'), unknownField),
      server.api('POST', concrete('/authentication'), unknownField),
    ]);
    expect(answers.map(({ status, body }) => [status, (body as { error: { code: string } }).error.code])).toEqual([
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [401, 'missing_credentials'],
    ]);
  });

  it("answers GET /me in the request's own tick once this node holds the app, token and session", async () => {
    const endedInTick: boolean[] = [];
    // Runs right after Fastify's own listener: the answer is complete by then only if nothing waited.
    const observe = (request: IncomingMessage, response: ServerResponse) => {
      if (request.url?.endsWith('/me') === true) endedInTick.push(response.writableEnded);
    };
    server.tessera.http.server.on('request', observe);
    try {
      for (let i = 0; i < 3; i += 1) {
        const response = await server.api('GET', concrete('/me'), { token: accessToken });
        expect(response.status).toBe(200);
      }
    } finally {
      server.tessera.http.server.off('request', observe);
    }
    // The first call may read the store; the next ones are cache hits.
    expect(endedInTick.slice(1)).toEqual([true, true]);
  });
});
