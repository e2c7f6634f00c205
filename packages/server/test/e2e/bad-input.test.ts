import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type RequestOptions, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { PASSWORD, signUpAndLogIn } from '../helpers/users.js';

interface Case {
  name: string;
  method: string;
  path: string;
  /** Which credential to send; filled in once the server runs. */
  auth?: 'publishable' | 'secret' | 'secretBearer' | 'user' | 'admin' | 'none';
  options?: RequestOptions;
  status: number;
  code: string;
}

const app = '/v1/apps/demo/chat';
const big = 'x'.repeat(70 * 1024);
const login = (body: Record<string, unknown>): RequestOptions => ({ body: { strategy: 'local', ...body } });
const signup = (body: Record<string, unknown>): RequestOptions => ({
  body: { email: 'new@example.com', password: PASSWORD, ...body },
});

// Every route, with the ways a client gets its input wrong.
const cases: Case[] = [
  // POST …/authentication
  {
    name: 'malformed JSON',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: { rawBody: '{"strategy":', headers: { 'content-type': 'application/json' } },
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'empty JSON body',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: { rawBody: '', headers: { 'content-type': 'application/json' } },
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'body over 64 KiB',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: login({ email: 'a@b.co', password: big }),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'not JSON',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: { rawBody: 'strategy=local', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'no strategy',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: { body: { email: 'a@b.co', password: PASSWORD } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'array body',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: { body: [1, 2] },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'unknown strategy',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: { body: { strategy: 'magic' } },
    status: 400,
    code: 'unknown_strategy',
  },
  {
    name: 'unknown field',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: login({ email: 'a@b.co', password: PASSWORD, admin: true }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'password of wrong type',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: login({ email: 'a@b.co', password: 12345678 }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'both email and username',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: login({ email: 'a@b.co', username: 'a', password: PASSWORD }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'neither email nor username',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: login({ password: PASSWORD }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'no API key',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'none',
    options: login({ email: 'a@b.co', password: PASSWORD }),
    status: 401,
    code: 'missing_credentials',
  },
  {
    name: 'garbage API key',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'none',
    options: { ...login({ email: 'a@b.co', password: PASSWORD }), key: 'pk_nope' },
    status: 401,
    code: 'invalid_api_key',
  },
  {
    name: 'reconnect token too long',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: { body: { strategy: 'reconnect', token: 'r'.repeat(300) } },
    status: 400,
    code: 'invalid_request',
  },
  // DELETE …/authentication
  {
    name: 'logout without a token',
    method: 'DELETE',
    path: `${app}/authentication`,
    auth: 'none',
    status: 401,
    code: 'missing_credentials',
  },
  {
    name: 'logout with a garbage token',
    method: 'DELETE',
    path: `${app}/authentication`,
    auth: 'none',
    options: { token: 'not.a.jwt' },
    status: 401,
    code: 'invalid_token',
  },
  {
    name: 'logout with Basic auth',
    method: 'DELETE',
    path: `${app}/authentication`,
    auth: 'none',
    options: { headers: { authorization: 'Basic dXNlcjpwYXNz' } },
    status: 401,
    code: 'invalid_token',
  },
  {
    name: 'logout with an oversized token',
    method: 'DELETE',
    path: `${app}/authentication`,
    auth: 'none',
    options: { token: 'a'.repeat(9000) },
    status: 401,
    code: 'invalid_token',
  },
  // POST …/users
  {
    name: 'signup without password',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: { body: { email: 'new@example.com' } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup without email or username',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: { body: { password: PASSWORD } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with an unknown field',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ kind: 'registered' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with a bad email',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ email: 'not-an-email' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with a bad username',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ username: 'two words' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with tags not an array',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ tags: 'a,b' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with customData an array',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ customData: [1] }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with a javascript: website',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ website: 'javascript:alert(1)' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with a letter phone',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ phone: 'call me' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with a null body',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: { rawBody: 'null', headers: { 'content-type': 'application/json' } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'signup with a weak password',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ password: 'short' }),
    status: 400,
    code: 'weak_password',
  },
  {
    name: 'signup with a taken email',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: signup({ email: 'TAKEN@example.com' }),
    status: 409,
    code: 'user_exists',
  },
  // GET /me, PATCH /me, sessions
  {
    name: 'me without a token',
    method: 'GET',
    path: `${app}/me`,
    auth: 'none',
    status: 401,
    code: 'missing_credentials',
  },
  {
    name: 'me with an API key as token',
    method: 'GET',
    path: `${app}/me`,
    auth: 'publishable',
    options: {},
    status: 401,
    code: 'missing_credentials',
  },
  {
    name: 'patch me with an unknown field',
    method: 'PATCH',
    path: `${app}/me`,
    auth: 'user',
    options: { body: { disabled: true } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'patch me with a wrong type',
    method: 'PATCH',
    path: `${app}/me`,
    auth: 'user',
    options: { body: { fullName: 42 } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'patch me with oldPassword alone',
    method: 'PATCH',
    path: `${app}/me`,
    auth: 'user',
    options: { body: { oldPassword: PASSWORD } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'patch me with a weak new password',
    method: 'PATCH',
    path: `${app}/me`,
    auth: 'user',
    options: { body: { password: 'short', oldPassword: PASSWORD } },
    status: 400,
    code: 'weak_password',
  },
  {
    name: 'patch me to a taken email',
    method: 'PATCH',
    path: `${app}/me`,
    auth: 'user',
    options: { body: { email: 'taken@EXAMPLE.com' } },
    status: 409,
    code: 'user_exists',
  },
  {
    name: 'end an unknown session',
    method: 'DELETE',
    path: `${app}/me/sessions/nope`,
    auth: 'user',
    status: 404,
    code: 'session_not_found',
  },
  {
    name: 'end a session with an oversized id',
    method: 'DELETE',
    path: `${app}/me/sessions/${'s'.repeat(100)}`,
    auth: 'user',
    status: 400,
    code: 'invalid_request',
  },
  // Secret-key user administration
  {
    name: 'list users with limit 0',
    method: 'GET',
    path: `${app}/users?limit=0`,
    auth: 'secret',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'list users with limit abc',
    method: 'GET',
    path: `${app}/users?limit=abc`,
    auth: 'secret',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'list users with an unknown parameter',
    method: 'GET',
    path: `${app}/users?sort=name`,
    auth: 'secret',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'list users with a publishable key',
    method: 'GET',
    path: `${app}/users`,
    auth: 'publishable',
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'update a user with disabled "yes"',
    method: 'PATCH',
    path: `${app}/users/USER`,
    auth: 'secret',
    options: { body: { disabled: 'yes' } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'update an unknown user',
    method: 'PATCH',
    path: `${app}/users/nope`,
    auth: 'secret',
    options: { body: { fullName: 'x' } },
    status: 404,
    code: 'user_not_found',
  },
  {
    name: 'delete an unknown user',
    method: 'DELETE',
    path: `${app}/users/nope`,
    auth: 'secret',
    status: 404,
    code: 'user_not_found',
  },
  {
    name: 'delete a user with a publishable key',
    method: 'DELETE',
    path: `${app}/users/USER`,
    auth: 'publishable',
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'import a hash with a publishable key',
    method: 'POST',
    path: `${app}/users`,
    auth: 'publishable',
    options: {
      body: { email: 'new@example.com', passwordHash: '$2b$04$abcdefghijklmnopqrstuuM2R0DkH8GFOhAoq.T0JdcAW4A6kQHSO' },
    },
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'import a hash of an unknown format',
    method: 'POST',
    path: `${app}/users`,
    auth: 'secret',
    options: { body: { email: 'new@example.com', passwordHash: '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=' } },
    status: 400,
    code: 'invalid_request',
  },
  // Anonymous upgrade
  {
    name: 'upgrade without a token',
    method: 'POST',
    path: `${app}/me/upgrade`,
    auth: 'none',
    options: signup({}),
    status: 401,
    code: 'missing_credentials',
  },
  {
    name: 'upgrade a registered user',
    method: 'POST',
    path: `${app}/me/upgrade`,
    auth: 'user',
    options: signup({ email: 'other@example.com' }),
    status: 409,
    code: 'not_anonymous',
  },
  {
    name: 'upgrade with an unknown field',
    method: 'POST',
    path: `${app}/me/upgrade`,
    auth: 'user',
    options: signup({ kind: 'registered' }),
    status: 400,
    code: 'invalid_request',
  },
  // Auth tokens
  {
    name: 'auth token with a publishable key',
    method: 'POST',
    path: `${app}/users/USER/auth-tokens`,
    auth: 'publishable',
    options: { body: {} },
    status: 403,
    code: 'forbidden',
  },
  {
    name: 'auth token for an unknown user',
    method: 'POST',
    path: `${app}/users/nope/auth-tokens`,
    auth: 'secret',
    options: { body: {} },
    status: 404,
    code: 'user_not_found',
  },
  {
    name: 'auth token with a negative lifetime',
    method: 'POST',
    path: `${app}/users/USER/auth-tokens`,
    auth: 'secret',
    options: { body: { expiresIn: -5 } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'auth token with an unknown field',
    method: 'POST',
    path: `${app}/users/USER/auth-tokens`,
    auth: 'secret',
    options: { body: { scope: 'all' } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'revoke an unknown auth token',
    method: 'DELETE',
    path: `${app}/users/USER/auth-tokens/nope`,
    auth: 'secret',
    status: 404,
    code: 'token_not_found',
  },
  {
    name: 'login with a garbage auth token',
    method: 'POST',
    path: `${app}/authentication`,
    auth: 'publishable',
    options: { body: { strategy: 'auth-token', token: 'at_nope' } },
    status: 403,
    code: 'strategy_disabled',
  },
  // Admin API
  {
    name: 'namespace with a bad name',
    method: 'POST',
    path: '/v1/admin/namespaces',
    auth: 'admin',
    options: { body: { name: '../etc' } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'namespace with an unknown field',
    method: 'POST',
    path: '/v1/admin/namespaces',
    auth: 'admin',
    options: { body: { name: 'ok', owner: 'me' } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'app with a bad setting',
    method: 'POST',
    path: '/v1/admin/namespaces/demo/apps',
    auth: 'admin',
    options: { body: { name: 'new', settings: { accessTokenTtl: 1 } } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'settings with an unknown key',
    method: 'PATCH',
    path: '/v1/admin/apps/demo/chat',
    auth: 'admin',
    options: { body: { settings: { superuser: true } } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'key of an unknown kind',
    method: 'POST',
    path: '/v1/admin/apps/demo/chat/keys',
    auth: 'admin',
    options: { body: { kind: 'root' } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'admin call with an API key header',
    method: 'GET',
    path: '/v1/admin/apps',
    auth: 'secret',
    status: 401,
    code: 'missing_credentials',
  },
  {
    name: 'admin call with a secret key as bearer',
    method: 'GET',
    path: '/v1/admin/apps',
    auth: 'secretBearer',
    status: 401,
    code: 'invalid_admin_token',
  },
  // Routing
  {
    name: 'unknown app',
    method: 'POST',
    path: '/v1/apps/demo/nope/users',
    auth: 'publishable',
    options: signup({}),
    status: 404,
    code: 'app_not_found',
  },
  { name: 'unknown route', method: 'GET', path: '/v1/nothing', auth: 'none', status: 404, code: 'route_not_found' },
];

describe.each(backends)('bad input on $name', (backend) => {
  let server: TestServer;
  let accessToken: string;
  let userId: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    await server.api('POST', `${app}/users`, {
      key: server.publishableKey,
      body: { email: 'taken@example.com', password: PASSWORD },
    });
    const { login, user } = await signUpAndLogIn(server);
    accessToken = login.accessToken;
    userId = user.id;
  });
  afterAll(() => server.close());

  it('answers each bad request with its status and code, and changes nothing', async () => {
    const before = await snapshotDatabase(server);
    const credentials = {
      publishable: { key: server.publishableKey },
      secret: { key: server.secretKey },
      secretBearer: { token: server.secretKey },
      user: { token: accessToken },
      admin: { token: server.adminToken },
      none: {},
    };
    const failures: string[] = [];
    for (const testCase of cases) {
      const options = { ...credentials[testCase.auth ?? 'none'], ...testCase.options };
      const response = await server.api<{ error?: { code: string; status: number; message: string } }>(
        testCase.method,
        testCase.path.replace('USER', userId),
        options,
      );
      const { error } = response.body ?? {};
      if (
        response.status !== testCase.status ||
        error?.code !== testCase.code ||
        error.status !== testCase.status ||
        typeof error.message !== 'string'
      ) {
        failures.push(
          `${testCase.name}: expected ${testCase.status} ${testCase.code}, got ${response.status} ${JSON.stringify(response.body)}`,
        );
      }
    }
    expect(failures).toEqual([]);
    expect(await snapshotDatabase(server)).toBe(before);
  });
});
