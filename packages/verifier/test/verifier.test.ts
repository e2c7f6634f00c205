import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, demoApp, logInTo, type TestApp } from '../../server/test/helpers/apps.js';
import { backends } from '../../server/test/helpers/backends.js';
import { LoopbackHttpServer } from '../../server/test/helpers/http-server.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { PASSWORD, uniqueEmail } from '../../server/test/helpers/users.js';
import { createVerifier, VerifierError, type Verifier, type VerifierOptions } from '../src/index.js';

/** The error `promise` rejects with, which must be a VerifierError. */
async function refusal(promise: Promise<unknown>): Promise<VerifierError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(VerifierError);
  return error as VerifierError;
}

// issue 15: the app's own servers verify Tessera's access tokens with @tessera/verifier.
describe('@tessera/verifier against a real Tessera', () => {
  let server: TestServer;
  let app: TestApp;
  let appName: string;
  let user: User;
  const verifiers: Verifier[] = [];

  const verifierOf = (options: Partial<VerifierOptions> = {}): Verifier => {
    const verifier = createVerifier({ url: server.url, app: appName, now: () => server.clock.now(), ...options });
    verifiers.push(verifier);
    return verifier;
  };
  const logIn = (): Promise<AuthenticationResult> =>
    logInTo(server, app, { strategy: 'local', email: user.email, password: PASSWORD });

  beforeAll(async () => {
    server = await startTestServer(backends[0]!);
    app = await createApp(server, { accessTokenClaims: { tags: true, customData: ['plan'] } });
    appName = `${app.namespace}/${app.name}`;
    const created = await server.api<User>('POST', `${app.path}/users`, {
      key: app.secretKey,
      body: {
        email: uniqueEmail('verifier'),
        password: PASSWORD,
        roles: ['moderator', 'room:lobby:publish'],
        tags: ['beta'],
        customData: { plan: 'pro', notes: 'not in tokens' },
      },
    });
    expect(created.status).toBe(201);
    user = created.body;
  });
  afterAll(async () => {
    for (const verifier of verifiers) verifier.close();
    await server.close();
  });

  it('answers the principal of a real access token, with its roles and claims', async () => {
    const login = await logIn();
    const principal = await verifierOf().verify(login.accessToken);
    expect(principal).toMatchObject({
      userId: user.id,
      sessionId: login.session.id,
      app: appName,
      roles: ['moderator', 'room:lobby:publish'],
      tags: ['beta'],
      customData: { plan: 'pro' },
      expiresAt: Date.parse(login.authentication.accessTokenExpiresAt),
    });
    expect(principal.issuedAt).toBeLessThanOrEqual(server.clock.now());
    expect(principal.claims).toMatchObject({ sub: user.id, sid: login.session.id, aud: appName });
    expect(Object.isFrozen(principal)).toBe(true);
  });

  it('refuses an expired token with token_expired, cached or not, and accepts it within the tolerance', async () => {
    const verifier = verifierOf({ clockToleranceSeconds: 5 });
    const { accessToken } = await logIn();
    const { expiresAt } = await verifier.verify(accessToken);
    server.clock.advance(expiresAt - server.clock.now() + 3_000);
    // Past exp the cache no longer answers; jose's check allows the 5 s of tolerance.
    await expect(verifier.verify(accessToken)).resolves.toMatchObject({ userId: user.id });
    server.clock.advance(3_000);
    const error = await refusal(verifier.verify(accessToken));
    expect(error).toMatchObject({ code: 'token_expired', status: 401, retryable: true });
    expect(error.message).not.toContain(accessToken);
    await expect(refusal(verifierOf().verify(accessToken))).resolves.toMatchObject({ code: 'token_expired' });
  });

  it("refuses another app's token, a tampered one, a non-JWT and an empty one", async () => {
    const verifier = verifierOf();
    const other = await server.api<User>('POST', '/v1/apps/demo/chat/users', {
      key: demoApp(server).publishableKey,
      body: { email: uniqueEmail('other'), password: PASSWORD },
    });
    expect(other.status).toBe(201);
    const otherLogin = await logInTo(server, demoApp(server), {
      strategy: 'local',
      email: other.body.email,
      password: PASSWORD,
    });
    const { accessToken } = await logIn();
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const promoted = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    // The first character: all six of its bits are the signature's (the last one's are partly padding).
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    for (const token of [
      otherLogin.accessToken,
      `${header}.${payload}.${flipped}`,
      `${header}.${promoted}.${signature}`,
      `${header}.${payload}.`,
      'not-a-token',
    ]) {
      const error = await refusal(verifier.verify(token));
      expect(error, token).toMatchObject({ code: 'invalid_token', status: 401, retryable: false });
      expect(error.message).not.toContain(token);
    }
    await expect(refusal(verifier.verify(''))).resolves.toMatchObject({ code: 'missing_credentials' });
    // The genuine token still passes: the refusals were not cached.
    await expect(verifier.verify(accessToken)).resolves.toMatchObject({ userId: user.id });
  });

  it('fetches the keys again for a key rotated in, once the cooldown allows it', async () => {
    const coolingDown = verifierOf({ keys: { cooldownMs: 600_000 } });
    const ready = verifierOf({ keys: { cooldownMs: 0 } });
    const before = await logIn();
    await coolingDown.verify(before.accessToken);
    await ready.verify(before.accessToken);
    const rotated = await server.api('POST', `/v1/admin/apps/${appName}/signing-keys/rotate`, {
      token: server.adminToken,
    });
    expect(rotated.status).toBe(201);
    const after = await logIn();
    const kid = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    expect(kid(after.accessToken)).not.toBe(kid(before.accessToken));

    await expect(ready.verify(after.accessToken)).resolves.toMatchObject({ sessionId: after.session.id });
    // Fetched moments ago: the new key may exist, so "retry", not "invalid".
    await expect(refusal(coolingDown.verify(after.accessToken))).resolves.toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
    // The previous key verifies until its tokens have expired.
    await expect(verifierOf().verify(before.accessToken)).resolves.toMatchObject({ sessionId: before.session.id });
  });

  it('answers a verified token from its cache, without the keys, until it expires', async () => {
    let answering = true;
    let fetches = 0;
    const proxy = new LoopbackHttpServer();
    await proxy.start((request, response) => {
      fetches += 1;
      if (!answering) return void response.writeHead(503).end();
      void fetch(`${server.url}${request.url}`).then(async (upstream) => {
        response.writeHead(upstream.status, { 'content-type': 'application/json' });
        response.end(await upstream.text());
      });
    });
    try {
      // maxAgeMs 0: every signature check fetches the keys, so the fetches count the checks.
      const verifier = verifierOf({ url: proxy.url, publicUrl: server.url, keys: { maxAgeMs: 0 } });
      const [first, second] = [await logIn(), await logIn()];
      await verifier.verify(first.accessToken);
      await verifier.verify(first.accessToken);
      expect(fetches).toBe(1);
      answering = false;
      await expect(verifier.verify(first.accessToken)).resolves.toMatchObject({ sessionId: first.session.id });
      expect(fetches).toBe(1);
      await expect(refusal(verifier.verify(second.accessToken))).resolves.toMatchObject({
        code: 'unavailable',
        status: 503,
      });
      expect(fetches).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('asks the revocation source on every verify, cached tokens included', async () => {
    const ended = new Set<string>();
    const verifier = verifierOf({
      revocations: { revoked: (sessionId) => (ended.has(sessionId) ? 'session_revoked' : undefined) },
    });
    const { accessToken, session } = await logIn();
    await verifier.verify(accessToken);
    ended.add(session.id);
    await expect(refusal(verifier.verify(accessToken))).resolves.toMatchObject({
      code: 'session_revoked',
      status: 401,
      retryable: false,
    });
  });

  it('refuses every token once closed', async () => {
    const verifier = verifierOf();
    const { accessToken } = await logIn();
    await verifier.verify(accessToken);
    verifier.close();
    await expect(refusal(verifier.verify(accessToken))).resolves.toMatchObject({ code: 'unavailable' });
  });

  it('refuses an app that is not namespace/app at creation', () => {
    expect(() => createVerifier({ url: server.url, app: 'chat' })).toThrow('namespace/app');
  });
});
