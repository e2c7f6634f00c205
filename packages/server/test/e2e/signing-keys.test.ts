import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createApp, signUpAndLogInTo } from '../helpers/apps.js';
import { signUpAndLogIn } from '../helpers/users.js';

describe.each(backends)('signing key rotation on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const jwks = async () =>
    (
      await server.api<{ keys: { kid: string; kty: string; crv: string; d?: string }[] }>(
        'GET',
        '/v1/apps/demo/chat/.well-known/jwks.json',
      )
    ).body.keys;

  it('publishes only public keys', async () => {
    const keys = await jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(keys[0]!.d).toBeUndefined();
  });

  it('signs with the new key after a rotation and keeps verifying the old one until its tokens expire', async () => {
    const before = await signUpAndLogIn(server);
    const oldKid = decodeProtectedHeader(before.login.accessToken).kid;
    const rotated = await server.api<{ kid: string }>('POST', '/v1/admin/apps/demo/chat/signing-keys/rotate', {
      token: server.adminToken,
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body.kid).not.toBe(oldKid);

    const after = await signUpAndLogIn(server);
    expect(decodeProtectedHeader(after.login.accessToken).kid).toBe(rotated.body.kid);
    expect((await jwks()).map((key) => key.kid)).toEqual([rotated.body.kid, oldKid]);

    // Both tokens work, online and offline.
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: before.login.accessToken })).status).toBe(200);
    const set = createRemoteJWKSet(new URL(`${server.appUrl}/.well-known/jwks.json`));
    await expect(
      jwtVerify(before.login.accessToken, set, { currentDate: new Date(server.clock.now()) }),
    ).resolves.toBeDefined();

    // Once every token of the old key has expired, the old key is no longer published.
    server.clock.advance(15 * 60_000 + 61_000 + 30_000);
    expect((await jwks()).map((key) => key.kid)).toEqual([rotated.body.kid]);
  });
});

describe.each(backends)('an app that signs with ES256 on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  it('issues ES256 access tokens that the server and any JWKS client verify', async () => {
    const app = await createApp(server, { publicSignup: true, signingAlgorithm: 'ES256' });
    const { login, user } = await signUpAndLogInTo(server, app);
    expect(decodeProtectedHeader(login.accessToken)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });

    const set = createRemoteJWKSet(new URL(`${server.url}${app.path}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(login.accessToken, set, {
      currentDate: new Date(server.clock.now()),
      algorithms: ['ES256'],
      audience: `${app.namespace}/${app.name}`,
    });
    expect(payload).toMatchObject({ sub: user.id, sid: login.session.id });
    expect((await server.api('GET', `${app.path}/me`, { token: login.accessToken })).body).toMatchObject({
      id: user.id,
    });
  });
});
