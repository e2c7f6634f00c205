import { KeyObject, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthenticationResult } from '@tessera/protocol';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startOidcProvider, type TestAccount, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { LogCapture } from '../helpers/log-capture.js';
import {
  ED25519_IDENTITY_JWK,
  forgeRs256WithExponentOne,
  jwkOf,
  ROCA_2048_PEM,
  rsaWithExponent,
} from '../helpers/weak-keys.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { REFUSED_TOKEN_ANSWER } from '../helpers/refused-token.js';

const APP = '/v1/apps/demo/chat';
const SECOND = 1000;

type ErrorAnswer = { error: { code: string; status: number; message: string; details?: Record<string, unknown> } };
type LoginAnswer = AuthenticationResult & ErrorAnswer;
interface TestApp {
  path: string;
  base: string;
  publishableKey: string;
}

let accounts = 0;
/** A provider account with a unique subject and the usual profile claims. */
function account(claims: Partial<TestAccount> = {}): TestAccount {
  accounts += 1;
  const sub = `ada-${process.pid}-${accounts}`;
  return {
    sub,
    email: `${sub}@example.com`,
    email_verified: true,
    name: 'Ada Lovelace',
    picture: 'https://example.com/ada.png',
    ...claims,
  };
}

/** Base64url JSON, for tokens built by hand. */
const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token whose header or payload the test chooses, with a signature that verifies nothing. */
function handMade(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${segment(header)}.${segment(payload)}.${Buffer.from('not a signature').toString('base64url')}`;
}

/** Replaces the first character of the signature, which every bit of counts. */
function tamperSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  return `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
}

/** The provider stamps tokens with the real time, and Tessera's clock only moves when told to: bring it up to now. */
function catchUp(server: TestServer): void {
  server.clock.advance(Math.max(0, Date.now() - server.clock.now()));
}

/** A plain HTTP server standing in for a provider that misbehaves. */
async function startFakeProvider(handle: (request: IncomingMessage, response: ServerResponse, issuer: string) => void) {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on('request', (request, response) => handle(request, response, issuer));
  return {
    issuer,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe.each(backends)('the oidc strategy on $name', (backend) => {
  let server: TestServer;
  let idp: TestOidcProvider;
  let apps = 0;

  const providerFor = (provider: TestOidcProvider, overrides: Record<string, unknown> = {}) => ({
    issuer: provider.issuer,
    clientId: provider.client.clientId,
    ...overrides,
  });
  const setOidc = (oidc: Record<string, unknown>, app = 'demo/chat', settings: Record<string, unknown> = {}) =>
    server.api<ErrorAnswer & { settings: { strategies: { oidc: unknown } } }>('PATCH', `/v1/admin/apps/${app}`, {
      token: server.adminToken,
      body: { settings: { ...settings, strategies: { oidc } } },
    });
  const login = (
    body: Record<string, unknown>,
    app: Pick<TestApp, 'base' | 'publishableKey'> = { base: APP, publishableKey: server.publishableKey },
  ) => {
    catchUp(server);
    return server.api<LoginAnswer>('POST', `${app.base}/authentication`, {
      key: app.publishableKey,
      body: { strategy: 'oidc', ...body },
    });
  };
  const identities = (subject: string) =>
    server.tessera.services.store.db
      .selectFrom('user_identities')
      .selectAll()
      .where('subject', '=', subject)
      .orderBy('created_at')
      .execute();
  const logs = new LogCapture();
  /**
   * A refused ID token answers one generic invalid_token (issue 12, item 7): the check that
   * failed is only in the log line just written. Other refusals keep their details.
   */
  const expectRefused = (
    answer: { status: number; body: ErrorAnswer },
    status: number,
    code: string,
    details?: Record<string, unknown>,
  ) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    if (code !== 'invalid_token') {
      expect(answer.body, JSON.stringify(answer.body)).toMatchObject({
        error: { code, status, ...(details === undefined ? {} : { details }) },
      });
      return;
    }
    expect(answer.body).toEqual(REFUSED_TOKEN_ANSWER);
    if (details?.check !== undefined)
      expect(logs.last('external token refused')).toMatchObject({ strategy: 'oidc', reason: details.check });
  };

  /** A new app of its own, with the oidc settings given. */
  const newApp = async (oidc?: Record<string, unknown>, settings: Record<string, unknown> = {}): Promise<TestApp> => {
    apps += 1;
    const name = `app-${apps}`;
    const admin = { token: server.adminToken };
    expect((await server.api('POST', '/v1/admin/namespaces/oidc/apps', { ...admin, body: { name } })).status).toBe(201);
    const key = await server.api<{ key: string }>('POST', `/v1/admin/apps/oidc/${name}/keys`, {
      ...admin,
      body: { kind: 'publishable' },
    });
    if (oidc !== undefined) expect((await setOidc(oidc, `oidc/${name}`, settings)).status).toBe(200);
    return { path: `oidc/${name}`, base: `/v1/apps/oidc/${name}`, publishableKey: key.body.key };
  };

  beforeAll(async () => {
    [server, idp] = await Promise.all([startTestServer(backend, {}, { logs }), startOidcProvider()]);
    expect(
      (await server.api('POST', '/v1/admin/namespaces', { token: server.adminToken, body: { name: 'oidc' } })).status,
    ).toBe(201);
  });
  afterAll(() => Promise.all([server.close(), idp.stop()]));

  it('is off unless the app enables it; its settings are checked', async () => {
    const { idToken } = await idp.obtainIdToken({ account: account() });
    const before = await snapshotDatabase(server);
    expectRefused(await login({ idToken }), 403, 'strategy_disabled');
    expectRefused(
      await setOidc({ enabled: true, providers: [{ issuer: 'http://idp.example.com', clientId: 'x' }] }),
      400,
      'invalid_request',
    );
    expectRefused(
      await setOidc({ enabled: true, providers: [{ issuer: 'https://idp.example.com?tenant=1', clientId: 'x' }] }),
      400,
      'invalid_request',
    );
    expectRefused(
      await setOidc({ enabled: true, providers: [{ issuer: 'https://idp.example.com' }] }),
      400,
      'invalid_request',
    );
    expectRefused(
      await setOidc({ enabled: true, providers: [{ ...providerFor(idp), secret: 'x' }] }),
      400,
      'invalid_request',
    );
    expect(await snapshotDatabase(server)).toBe(before);
    const enabled = await setOidc({ enabled: true, providers: [providerFor(idp, { autoProvision: true })] });
    expect(enabled.body.settings.strategies.oidc).toEqual({
      enabled: true,
      providers: [{ ...providerFor(idp), autoProvision: true, discoveryCacheSeconds: 3600, timeoutMs: 3000 }],
    });
  });

  it('logs in with an ID token from a real authorization code flow, creating an external user', async () => {
    const ada = account();
    const { idToken, nonce } = await idp.obtainIdToken({ account: ada });
    const answer = await login({ idToken, nonce });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({
      authentication: { strategy: 'oidc' },
      user: {
        kind: 'external',
        email: ada.email,
        fullName: 'Ada Lovelace',
        avatarUrl: 'https://example.com/ada.png',
        username: null,
      },
    });
    expect((await server.api('GET', `${APP}/me`, { token: answer.body.accessToken })).body).toMatchObject({
      id: answer.body.user.id,
    });
    expect(await identities(ada.sub)).toEqual([
      expect.objectContaining({ provider: `oidc:${idp.issuer}`, subject: ada.sub, user_id: answer.body.user.id }),
    ]);
    // The nonce is the client's to check; without one, the token still logs in.
    expect((await login({ idToken })).body.user.id).toBe(answer.body.user.id);
  });

  it('finds the same user by (issuer, sub) and refreshes its profile at each login', async () => {
    const ada = account();
    const first = await login({ idToken: (await idp.obtainIdToken({ account: ada })).idToken });
    const renamed = {
      ...ada,
      name: undefined,
      given_name: 'Augusta',
      family_name: 'King',
      picture: 'https://example.com/augusta.png',
      email: `augusta-${ada.sub}@example.com`,
    };
    server.clock.advance(SECOND);
    const second = await login({ idToken: (await idp.obtainIdToken({ account: renamed })).idToken });
    expect(second.body.user).toMatchObject({
      id: first.body.user.id,
      fullName: 'Augusta King',
      avatarUrl: 'https://example.com/augusta.png',
      email: renamed.email,
    });
    expect(await identities(ada.sub)).toEqual([
      expect.objectContaining({ user_id: first.body.user.id, last_login_at: server.clock.now() }),
    ]);
    // An address the provider has not verified is not taken, and the one on file stays.
    const unverified = await login({
      idToken: (
        await idp.obtainIdToken({ account: { ...renamed, email: 'someone-else@example.com', email_verified: false } })
      ).idToken,
    });
    expect(unverified.body.user).toMatchObject({ id: first.body.user.id, email: renamed.email });
  });

  it('takes the phone number of a Firebase-style phone sign-in, unless the provider says it is unverified', async () => {
    const phone = await login({
      idToken: (
        await idp.obtainIdToken({
          account: account({ email: undefined, name: undefined, phone_number: '+15555550100' }),
        })
      ).idToken,
    });
    expect(phone.body.user).toMatchObject({ kind: 'external', phone: '+15555550100', email: null, fullName: null });
    const unverified = await login({
      idToken: (
        await idp.obtainIdToken({ account: account({ phone_number: '+15555550101', phone_number_verified: false }) })
      ).idToken,
    });
    expect(unverified.body.user).toMatchObject({ phone: null });
  });

  it('creates a user without an address that is unverified or already another user’s', async () => {
    const unverified = await login({
      idToken: (await idp.obtainIdToken({ account: account({ email_verified: false }) })).idToken,
    });
    expect(unverified.body.user).toMatchObject({ kind: 'external', email: null, fullName: 'Ada Lovelace' });
    const owner = await login({ idToken: (await idp.obtainIdToken({ account: account() })).idToken });
    const twin = await login({
      idToken: (await idp.obtainIdToken({ account: account({ email: owner.body.user.email ?? '' }) })).idToken,
    });
    expect(twin.status).toBe(201);
    expect(twin.body.user).toMatchObject({ email: null });
    expect(twin.body.user.id).not.toBe(owner.body.user.id);
  });

  it('makes one user when the first two logins of an identity race', async () => {
    const ada = account();
    const { idToken } = await idp.obtainIdToken({ account: ada });
    const answers = await Promise.all([login({ idToken }), login({ idToken }), login({ idToken })]);
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((answer) => answer.body.user.id)).size).toBe(1);
    expect(await identities(ada.sub)).toHaveLength(1);
  });

  it('refuses a token for another client, a wrong nonce, a changed signature, and changes nothing', async () => {
    const ada = account();
    const other = await idp.obtainIdToken({ account: ada, client: idp.otherClient });
    const { idToken, nonce } = await idp.obtainIdToken({ account: ada });
    const before = await snapshotDatabase(server);
    expectRefused(await login({ idToken: other.idToken }), 401, 'invalid_token', { check: 'audience' });
    expectRefused(await login({ idToken, nonce: `${nonce}x` }), 401, 'invalid_token', { check: 'nonce' });
    expectRefused(await login({ idToken: tamperSignature(idToken) }), 401, 'invalid_token', { check: 'signature' });
    const [header, payload, signature] = idToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    expectRefused(
      await login({ idToken: `${header}.${segment({ ...claims, sub: 'someone-else' })}.${signature}` }),
      401,
      'invalid_token',
      { check: 'signature' },
    );
    const answer = await login({ idToken, nonce: 'wrong' });
    expect(JSON.stringify(answer.body)).not.toContain(idToken.split('.')[1]);
    expect(await snapshotDatabase(server)).toBe(before);
    expect(await identities(ada.sub)).toEqual([]);
  });

  it('refuses tokens of other issuers, symmetric or no signatures, other token types and bad input', async () => {
    const stranger = await startOidcProvider();
    try {
      const foreign = await stranger.obtainIdToken({ account: account() });
      expectRefused(await login({ idToken: foreign.idToken }), 401, 'invalid_token', { check: 'issuer' });
      expect(stranger.requests('/.well-known/openid-configuration')).toBe(0);
    } finally {
      await stranger.stop();
    }
    // The provider signs this client's ID tokens with HS256 and the client secret, which Tessera never trusts.
    const hmac = await idp.obtainIdToken({ account: account(), client: idp.hmacClient });
    await setOidc({
      enabled: true,
      providers: [
        providerFor(idp, { autoProvision: true }),
        { issuer: idp.issuer, clientId: idp.hmacClient.clientId, autoProvision: true },
      ],
    });
    expectRefused(await login({ idToken: hmac.idToken }), 401, 'invalid_token', { check: 'algorithm' });
    const claims = {
      iss: idp.issuer,
      aud: idp.client.clientId,
      sub: 'mallory',
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 600,
    };
    expectRefused(await login({ idToken: `${segment({ alg: 'none' })}.${segment(claims)}.` }), 401, 'invalid_token', {
      check: 'algorithm',
    });
    expectRefused(
      await login({ idToken: handMade({ alg: 'RS256', kid: idp.kid, typ: 'at+jwt' }, claims) }),
      401,
      'invalid_token',
      { check: 'typ' },
    );
    expectRefused(await login({ idToken: handMade({ alg: 'RS256', typ: 7 }, claims) }), 401, 'invalid_token', {
      check: 'typ',
    });
    for (const idToken of ['not-a-token', 'a.b.c', `${handMade({ alg: 'RSA-OAEP', enc: 'A256GCM' }, claims)}.x.y`]) {
      expectRefused(await login({ idToken }), 401, 'invalid_token', { check: 'format' });
    }
    expectRefused(await login({}), 400, 'invalid_request');
    expectRefused(await login({ idToken: 'x'.repeat(8193) }), 400, 'invalid_request');
    expectRefused(await login({ idToken: 'a.b.c', extra: true }), 400, 'invalid_request');
  });

  it('checks each claim, over keys of every asymmetric kind', async () => {
    // A provider serving keys the test holds, to make tokens no real provider would issue.
    const [es, esNoKid, ed] = await Promise.all([
      generateKeyPair('ES256'),
      generateKeyPair('ES256'),
      generateKeyPair('EdDSA'),
    ]);
    const jwks = {
      keys: [
        { ...(await exportJWK(es.publicKey)), kid: 'es', use: 'sig' },
        await exportJWK(esNoKid.publicKey),
        { ...(await exportJWK(ed.publicKey)), alg: 'EdDSA' },
      ],
    };
    const fake = await startFakeProvider((request, response, issuer) =>
      response.end(JSON.stringify(request.url === '/jwks' ? jwks : { issuer, jwks_uri: `${issuer}/jwks` })),
    );
    try {
      const app = await newApp({
        enabled: true,
        providers: [{ issuer: fake.issuer, clientId: 'web', autoProvision: true }],
      });
      catchUp(server);
      const now = Math.floor(server.clock.now() / 1000);
      const claims: JWTPayload = { iss: fake.issuer, aud: 'web', sub: 'grace', iat: now, exp: now + 600 };
      const signed = (
        payload: JWTPayload,
        header: { alg: string; kid?: string } = { alg: 'ES256', kid: 'es' },
        key: CryptoKey = es.privateKey,
      ) => new SignJWT(payload).setProtectedHeader(header).sign(key);
      const accepted = async (idToken: string) => expect((await login({ idToken }, app)).status).toBe(201);
      const refused = async (idToken: string, check: string) =>
        expectRefused(await login({ idToken }, app), 401, 'invalid_token', { check });
      await accepted(await signed(claims));
      await accepted(await signed({ ...claims, aud: ['web', 'api'], azp: 'web' }));
      await refused(await signed({ ...claims, aud: ['web', 'api'] }), 'azp');
      await refused(await signed({ ...claims, aud: ['api', 'web'], azp: 'api' }), 'azp');
      await refused(await signed({ ...claims, aud: 'api' }), 'audience');
      await refused(await signed({ ...claims, iat: now + 120 }), 'iat');
      await refused(await signed({ ...claims, nbf: now + 120 }), 'nbf');
      await refused(await signed({ ...claims, exp: undefined }), 'claims');
      await refused(await signed({ ...claims, iat: undefined }), 'claims');
      await refused(await signed({ ...claims, sub: 'x'.repeat(256) }), 'sub');
      await refused(await signed({ ...claims, sub: 42 } as unknown as JWTPayload), 'sub');
      // No `kid`: every key of the right type is tried.
      await accepted(await signed(claims, { alg: 'ES256' }, esNoKid.privateKey));
      await accepted(await signed(claims, { alg: 'EdDSA' }, ed.privateKey));
      await refused(await signed(claims, { alg: 'ES256', kid: 'es' }, esNoKid.privateKey), 'signature');
      await refused(await signed(claims, { alg: 'ES256', kid: 'nope' }), 'key');
      // A key is used only with the algorithm family it is for: an RSA signature under the EC key's id finds no key.
      await refused(
        await signed(claims, { alg: 'RS256', kid: 'es' }, (await generateKeyPair('RS256')).privateKey),
        'key',
      );
      // Issue 12, item 2: time claims are finite and in range, and header and claims are bare JSON objects.
      const raw = (headerText: string, payloadText: string) => {
        const input = `${Buffer.from(headerText).toString('base64url')}.${Buffer.from(payloadText).toString('base64url')}`;
        return `${input}.${sign('sha256', Buffer.from(input), { key: KeyObject.from(es.privateKey), dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
      };
      const header = JSON.stringify({ alg: 'ES256', kid: 'es' });
      const claimsWith = (literal: string) =>
        `${JSON.stringify({ ...claims, exp: undefined }).slice(0, -1)},"exp":${literal}}`;
      await accepted(raw(header, claimsWith(String(now + 600))));
      await refused(raw(header, claimsWith('1e400')), 'bad_time_claim');
      await refused(raw(header, claimsWith('-1')), 'bad_time_claim');
      await refused(raw(header, claimsWith('"soon"')), 'bad_time_claim');
      await refused(raw(`\ufeff${header}`, JSON.stringify(claims)), 'format');
      await refused(raw(header, `\ufeff${JSON.stringify(claims)}`), 'format');
      await refused(raw(header, ` ${JSON.stringify(claims)}`), 'format');
    } finally {
      await fake.stop();
    }
  });

  it('refuses an expired ID token, by Tessera’s clock', async () => {
    const shortLived = await startOidcProvider({ idTokenTtlSeconds: 120 });
    try {
      const app = await newApp({ enabled: true, providers: [providerFor(shortLived, { autoProvision: true })] });
      const { idToken } = await shortLived.obtainIdToken({ account: account() });
      catchUp(server);
      const lateLogin = () =>
        server.api<LoginAnswer>('POST', `${app.base}/authentication`, {
          key: app.publishableKey,
          body: { strategy: 'oidc', idToken },
        });
      expect((await lateLogin()).status).toBe(201);
      // A minute of clock difference with the provider is tolerated past `exp`, not more.
      server.clock.advance(120 * SECOND + 30 * SECOND);
      expect((await lateLogin()).status).toBe(201);
      server.clock.advance(31 * SECOND);
      expectRefused(await lateLogin(), 401, 'invalid_token', { check: 'exp' });
    } finally {
      await shortLived.stop();
    }
  });

  it('follows the provider’s key rotation, fetching keys again at most once per cooldown', async () => {
    const first = await startOidcProvider();
    let rotated: TestOidcProvider | undefined;
    try {
      const app = await newApp({ enabled: true, providers: [providerFor(first, { autoProvision: true })] });
      expect((await login({ idToken: (await first.obtainIdToken({ account: account() })).idToken }, app)).status).toBe(
        201,
      );
      expect([first.requests('/.well-known/openid-configuration'), first.requests('/jwks')]).toEqual([1, 1]);
      await first.stop();
      rotated = await startOidcProvider({ port: first.port });
      server.clock.advance(31 * SECOND);
      const afterRotation = await login(
        { idToken: (await rotated.obtainIdToken({ account: account() })).idToken },
        app,
      );
      expect(afterRotation.status, JSON.stringify(afterRotation.body)).toBe(201);
      expect([rotated.requests('/.well-known/openid-configuration'), rotated.requests('/jwks')]).toEqual([0, 1]);
      // Made-up key ids do not turn into a request each.
      const { privateKey } = await generateKeyPair('RS256');
      const now = Math.floor(server.clock.now() / 1000);
      const forged = await new SignJWT({ sub: 'mallory' })
        .setProtectedHeader({ alg: 'RS256', kid: 'made-up' })
        .setIssuer(rotated.issuer)
        .setAudience(rotated.client.clientId)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
      for (let attempt = 0; attempt < 3; attempt += 1)
        expectRefused(await login({ idToken: forged }, app), 401, 'invalid_token', { check: 'key' });
      expect(rotated.requests('/jwks')).toBe(1);
      server.clock.advance(31 * SECOND);
      expectRefused(await login({ idToken: forged }, app), 401, 'invalid_token', { check: 'key' });
      expect(rotated.requests('/jwks')).toBe(2);
    } finally {
      await (rotated ?? first).stop().catch(() => undefined);
    }
  });

  it("skips and logs a provider's forgeable keys; a token forged with them is refused, the others log in (issue 12)", async () => {
    const good = await generateKeyPair('ES256');
    const e1 = { ...rsaWithExponent(1), kid: 'e1' };
    const jwks = {
      keys: [
        e1,
        { ...ED25519_IDENTITY_JWK, kid: 'identity' },
        { ...jwkOf(ROCA_2048_PEM), kid: 'roca' },
        { ...(await exportJWK(good.publicKey)), kid: 'good' },
      ],
    };
    const fake = await startFakeProvider((request, response, issuer) =>
      response.end(JSON.stringify(request.url === '/jwks' ? jwks : { issuer, jwks_uri: `${issuer}/jwks` })),
    );
    try {
      const app = await newApp({
        enabled: true,
        providers: [{ issuer: fake.issuer, clientId: 'web', autoProvision: true, maxTokenLifetime: 3600 }],
      });
      catchUp(server);
      const now = Math.floor(server.clock.now() / 1000);
      const claims = { iss: fake.issuer, aud: 'web', sub: 'mallory', iat: now, exp: now + 600 };
      const input = (header: Record<string, unknown>, payload: Record<string, unknown> = claims) =>
        `${segment(header)}.${segment(payload)}`;
      const rsInput = input({ alg: 'RS256', kid: 'e1' });
      expectRefused(
        await login({ idToken: `${rsInput}.${forgeRs256WithExponentOne(rsInput)}` }, app),
        401,
        'invalid_token',
        { check: 'key' },
      );
      const edInput = input({ alg: 'EdDSA', kid: 'identity' });
      expectRefused(
        await login(
          { idToken: `${edInput}.${Buffer.concat([Buffer.from([1]), Buffer.alloc(63)]).toString('base64url')}` },
          app,
        ),
        401,
        'invalid_token',
        { check: 'key' },
      );
      const refusedKeys = logs.withMessage('OpenID provider key refused').filter((line) => line.issuer === fake.issuer);
      expect(Object.fromEntries(refusedKeys.map((line) => [line.kid, line.reason]))).toEqual({
        e1: expect.stringMatching(/exponent 1/),
        identity: expect.stringMatching(/small order/),
        roca: expect.stringMatching(/ROCA/),
      });
      expect(refusedKeys[0]).toMatchObject({ level: 40, strategy: 'oidc', url: `${fake.issuer}/jwks` });
      const signed = (payload: JWTPayload) =>
        new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'good' }).sign(good.privateKey);
      expect((await login({ idToken: await signed({ ...claims, sub: 'grace' }) }, app)).status).toBe(201);
      // maxTokenLifetime: exp − iat at most an hour, and both present.
      expectRefused(await login({ idToken: await signed({ ...claims, exp: now + 3601 }) }, app), 401, 'invalid_token', {
        check: 'lifetime_too_long',
      });
    } finally {
      await fake.stop();
    }
  });

  it('answers idp_unreachable when the provider is down, once what it cached has expired', async () => {
    const provider = await startOidcProvider();
    const { idToken } = await provider.obtainIdToken({ account: account() });
    const settings = {
      enabled: true,
      providers: [providerFor(provider, { autoProvision: true, discoveryCacheSeconds: 60 })],
    };
    const app = await newApp(settings);
    expect((await login({ idToken }, app)).status).toBe(201);
    await provider.stop();
    // What the app fetched before still verifies tokens until it expires.
    expect((await login({ idToken }, app)).status).toBe(201);
    const fresh = await newApp(settings);
    const before = await snapshotDatabase(server);
    expectRefused(await login({ idToken }, fresh), 502, 'idp_unreachable', {
      issuer: provider.issuer,
      step: 'discovery',
      reason: 'network',
    });
    server.clock.advance(61 * SECOND);
    expectRefused(await login({ idToken }, app), 502, 'idp_unreachable', {
      issuer: provider.issuer,
      step: 'discovery',
    });
    expect(await snapshotDatabase(server)).toBe(before);
  });

  it('answers idp_unreachable for a provider whose documents cannot be used', async () => {
    const cases: [string, (response: ServerResponse, issuer: string, path: string) => void, Record<string, unknown>][] =
      [
        [
          'another issuer',
          (response) =>
            response.end(
              JSON.stringify({
                issuer: 'https://elsewhere.example.com',
                jwks_uri: 'https://elsewhere.example.com/jwks',
              }),
            ),
          { step: 'discovery', reason: 'issuer_mismatch' },
        ],
        [
          'a redirect',
          (response) => response.writeHead(302, { location: 'https://elsewhere.example.com/' }).end(),
          { step: 'discovery', reason: 'redirect' },
        ],
        ['not JSON', (response) => response.end('<html>'), { step: 'discovery', reason: 'not_json' }],
        [
          'an http jwks_uri elsewhere',
          (response, issuer) => response.end(JSON.stringify({ issuer, jwks_uri: 'http://keys.example.com/jwks' })),
          { step: 'discovery', reason: 'invalid_document' },
        ],
        [
          'no keys',
          (response, issuer, path) =>
            path === '/jwks'
              ? response.writeHead(404).end()
              : response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` })),
          { step: 'jwks', reason: 'status', status: 404 },
        ],
        [
          'too large keys',
          (response, issuer, path) =>
            response.end(
              path === '/jwks'
                ? `{"keys":[${'{},'.repeat(100_000)}{}]}`
                : JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }),
            ),
          { step: 'jwks', reason: 'too_large' },
        ],
      ];
    for (const [name, answer, details] of cases) {
      const fake = await startFakeProvider((request, response, issuer) =>
        answer(response, issuer, new URL(request.url ?? '/', issuer).pathname),
      );
      try {
        const app = await newApp({
          enabled: true,
          providers: [{ issuer: fake.issuer, clientId: 'tessera-app', autoProvision: true }],
        });
        const idToken = handMade({ alg: 'RS256', kid: 'k' }, { iss: fake.issuer, aud: 'tessera-app', sub: 'ada' });
        const refused = await login({ idToken }, app);
        expect(refused.body, name).toMatchObject({
          error: { code: 'idp_unreachable', status: 502, details: { issuer: fake.issuer, ...details } },
        });
      } finally {
        await fake.stop();
      }
    }
  });

  it('times out a provider that does not answer', async () => {
    const silent = await startFakeProvider(() => undefined);
    try {
      const app = await newApp({
        enabled: true,
        providers: [{ issuer: silent.issuer, clientId: 'tessera-app', timeoutMs: 100 }],
      });
      const idToken = handMade({ alg: 'RS256' }, { iss: silent.issuer, aud: 'tessera-app', sub: 'ada' });
      expectRefused(await login({ idToken }, app), 502, 'idp_unreachable', { step: 'discovery', reason: 'timeout' });
    } finally {
      await silent.stop();
    }
  });

  it('creates users only when the provider or else the app allows it', async () => {
    const app = await newApp({ enabled: true, providers: [providerFor(idp)] });
    const ada = account();
    const { idToken } = await idp.obtainIdToken({ account: ada });
    const before = await snapshotDatabase(server);
    expectRefused(await login({ idToken }, app), 403, 'user_not_provisioned', { issuer: idp.issuer });
    expect(await snapshotDatabase(server)).toBe(before);
    await setOidc({ enabled: true, providers: [providerFor(idp, { autoProvision: false })] }, app.path, {
      autoProvisionUsers: true,
    });
    expectRefused(await login({ idToken }, app), 403, 'user_not_provisioned');
    await setOidc({ enabled: true, providers: [providerFor(idp)] }, app.path);
    const created = await login({ idToken }, app);
    expect(created.status).toBe(201);
    // Once linked, the user logs in whatever the provisioning setting says, unless it is disabled.
    await setOidc({ enabled: true, providers: [providerFor(idp, { autoProvision: false })] }, app.path, {
      autoProvisionUsers: false,
    });
    expect((await login({ idToken }, app)).body.user.id).toBe(created.body.user.id);
    const secret = await server.api<{ key: string }>('POST', `/v1/admin/apps/${app.path}/keys`, {
      token: server.adminToken,
      body: { kind: 'secret' },
    });
    await server.api('PATCH', `${app.base}/users/${created.body.user.id}`, {
      key: secret.body.key,
      body: { disabled: true },
    });
    expectRefused(await login({ idToken }, app), 401, 'user_disabled');
  });

  it('keeps apps apart: settings, client ids and users are per app', async () => {
    const ada = account();
    const forDemo = await idp.obtainIdToken({ account: ada });
    const forOther = await idp.obtainIdToken({ account: ada, client: idp.otherClient });
    const disabled = await newApp();
    expectRefused(await login({ idToken: forDemo.idToken }, disabled), 403, 'strategy_disabled');
    const other = await newApp({
      enabled: true,
      providers: [{ issuer: idp.issuer, clientId: idp.otherClient.clientId, autoProvision: true }],
    });
    expectRefused(await login({ idToken: forDemo.idToken }, other), 401, 'invalid_token', { check: 'audience' });
    expectRefused(await login({ idToken: forOther.idToken }), 401, 'invalid_token', { check: 'audience' });
    const inOther = await login({ idToken: forOther.idToken }, other);
    const inDemo = await login({ idToken: forDemo.idToken });
    expect([inOther.status, inDemo.status]).toEqual([201, 201]);
    // The same person at the same provider is a different user in each app.
    expect(inOther.body.user.id).not.toBe(inDemo.body.user.id);
    expect((await identities(ada.sub)).map((row) => row.user_id).sort()).toEqual(
      [inDemo.body.user.id, inOther.body.user.id].sort(),
    );
    expect((await server.api('GET', `${other.base}/me`, { token: inDemo.body.accessToken })).status).toBe(401);
  });
});
