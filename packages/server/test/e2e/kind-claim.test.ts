import type { AuthenticationResult, Introspection, UserKind } from '@tessera/protocol';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

// Issue 15, item 1: the verifier's principal carries the user's kind, so every access token does
// (packages/verifier/test/principal.test.ts reads it back as the principal's).

type ErrorAnswer = { error: { code: string; status: number } };
type Claims = JWTPayload & { sid: string; kind?: UserKind };

const ISSUER_SECRET = 'kind-claim-issuer-shared-secret-0123456789';

describe.each(backends)('the kind claim in access tokens on $name (issue 15)', (backend) => {
  let server: TestServer;
  let app: TestApp;

  beforeAll(async () => {
    server = await startTestServer(backend);
    app = await createApp(server, {
      strategies: {
        anonymous: { enabled: true },
        guest: { enabled: true },
        jwt: {
          enabled: true,
          issuers: [
            { id: 'sso', audience: 'chat', secrets: [{ alg: 'HS256', secret: ISSUER_SECRET }], autoProvision: true },
          ],
        },
      },
    });
  });
  afterAll(() => server.close());

  /** The token's claims, verified as a server of the app's own would: against the app's published keys. */
  const claimsOf = async (accessToken: string): Promise<Claims> => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}${app.path}/.well-known/jwks.json`));
    const { payload } = await jwtVerify<Claims>(accessToken, jwks, {
      issuer: `${server.url}${app.path}`,
      audience: `${app.namespace}/${app.name}`,
      typ: 'at+jwt',
      currentDate: new Date(server.clock.now()),
    });
    return payload;
  };
  const login = async (body: Record<string, unknown>): Promise<AuthenticationResult> => {
    const answer = await server.api<AuthenticationResult & ErrorAnswer>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body;
  };
  const introspect = async (token: string): Promise<Introspection> =>
    (await server.api<Introspection>('POST', `${app.path}/introspect`, { key: app.secretKey, body: { token } })).body;
  const issuerToken = (subject: string) => {
    const now = Math.floor(server.clock.now() / 1000);
    return new SignJWT({ iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setAudience('chat')
      .sign(Buffer.from(ISSUER_SECRET));
  };

  /** The kind the token says, which the user's record and introspection say too. */
  const expectKind = async (result: AuthenticationResult, kind: UserKind): Promise<void> => {
    expect(result.user.kind).toBe(kind);
    expect((await claimsOf(result.accessToken)).kind).toBe(kind);
    expect(await introspect(result.accessToken)).toMatchObject({ active: true, kind });
  };

  it('every login method puts the user’s kind in the token, and a refresh keeps it', async () => {
    const email = uniqueEmail('kind');
    const signup = await server.api('POST', `${app.path}/users`, {
      key: app.publishableKey,
      body: { email, password: PASSWORD },
    });
    expect(signup.status).toBe(201);
    const registered = await login({ strategy: 'local', email, password: PASSWORD });
    await expectKind(registered, 'registered');
    await expectKind(await login({ strategy: 'anonymous' }), 'anonymous');
    const guest = await login({ strategy: 'guest', fullName: 'Grace' });
    await expectKind(guest, 'guest');
    await expectKind(await login({ strategy: 'jwt', issuer: 'sso', token: await issuerToken('kind-7') }), 'external');

    await expectKind(await login({ strategy: 'reconnect', token: guest.reconnectToken }), 'guest');
    await expectKind(await login({ strategy: 'access-token', accessToken: registered.accessToken }), 'registered');
  });

  it('an anonymous user’s upgrade answers a token of kind registered', async () => {
    const visitor = await login({ strategy: 'anonymous' });
    await expectKind(visitor, 'anonymous');
    const upgraded = await server.api<AuthenticationResult & ErrorAnswer>('POST', `${app.path}/me/upgrade`, {
      token: visitor.accessToken,
      body: { email: uniqueEmail('kind'), password: PASSWORD },
    });
    expect(upgraded.status, JSON.stringify(upgraded.body)).toBe(200);
    await expectKind(upgraded.body, 'registered');
  });
});
