import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { AuthenticationResult } from '@tessera/protocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { b64, handMade, IssuerServer, json } from '../helpers/jwt.js';
import { LogCapture } from '../helpers/log-capture.js';
import { connect } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUpAndLogIn } from '../helpers/users.js';
import {
  ED25519_IDENTITY_JWK,
  FERMAT_2048_PEM,
  forgeRs256WithExponentOne,
  goodRsaJwk,
  jwkOf,
  offCurveP256Jwk,
  paddedShortRsaJwk,
  ROCA_2048_PEM,
  rsaWithExponent,
  type Jwk,
} from '../helpers/weak-keys.js';
import { REFUSED_TOKEN_ANSWER as REFUSED } from '../helpers/refused-token.js';

// Issue 12, items 1, 2, 3 and 7: keys that would let anyone forge a login are refused wherever
// they come from, time claims are bounded, shared secrets random, and a refusal says nothing more.

const ISS = 'https://issuer.example';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaE3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
const pemOf = (jwk: Jwk) =>
  createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
const SECRET = randomBytes(32).toString('base64');

type Issuer = Record<string, unknown>;

describe.each(backends)('keys and tokens of trusted issuers that cannot be forged, on $name (issue 12)', (backend) => {
  let server: TestServer;
  const logs = new LogCapture();
  const web = new IssuerServer();
  const now = () => Math.floor(server.clock.now() / 1000);
  const claims = (overrides: Record<string, unknown> = {}) => ({
    iss: ISS,
    aud: 'demo-chat',
    sub: 'admin',
    iat: now(),
    exp: now() + 600,
    ...overrides,
  });
  const patchJwt = (issuers: Issuer[], app = 'demo/chat') =>
    server.api<{ settings: unknown }>('PATCH', `/v1/admin/apps/${app}`, {
      token: server.adminToken,
      body: { settings: { strategies: { jwt: { enabled: true, issuers } } } },
    });
  const settingsNow = async () =>
    (await server.api<{ settings: unknown }>('GET', '/v1/admin/apps/demo/chat', { token: server.adminToken })).body
      .settings;
  const login = (token: string, issuer?: string) =>
    server.api<AuthenticationResult>('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'jwt', token, ...(issuer === undefined ? {} : { issuer }) },
    });
  /** An RS256 token "signed" with no private key at all: it verifies under any e = 1 key. */
  const forgedRs256 = (kid: string) => {
    const input = `${b64(JSON.stringify({ alg: 'RS256', kid }))}.${b64(JSON.stringify(claims()))}`;
    return `${input}.${forgeRs256WithExponentOne(input)}`;
  };
  /** An EdDSA token "signed" with R = identity, S = 0: it verifies under the identity key. */
  const forgedEdDsa = (kid: string) =>
    `${b64(JSON.stringify({ alg: 'EdDSA', kid }))}.${b64(JSON.stringify(claims()))}.${Buffer.concat([Buffer.from([1]), Buffer.alloc(63)]).toString('base64url')}`;
  const expectRefused = (response: { status: number; body: unknown }, reason: string) => {
    expect(response.status, JSON.stringify(response.body)).toBe(401);
    expect(response.body).toEqual(REFUSED);
    expect(logs.last('external token refused')).toMatchObject({ app: 'demo/chat', strategy: 'jwt', reason });
  };
  const keyIssuer = (publicKeys: Issuer[], extra: Issuer = {}): Issuer => ({
    id: 'keys',
    issuer: ISS,
    audience: 'demo-chat',
    publicKeys,
    autoProvision: true,
    ...extra,
  });
  const goodEcEntry = { kid: 'good', alg: 'ES256', jwk: jwkOf(ec.publicKey) };

  beforeAll(async () => {
    await web.start();
    server = await startTestServer(backend, {}, { logs });
  });
  afterAll(async () => {
    await server.close();
    await web.close();
  });

  describe('keys in settings', () => {
    it('refuses an RSA key with public exponent 1, as JWK or PEM, naming its path, and changes nothing', async () => {
      const before = await settingsNow();
      for (const entry of [{ jwk: rsaWithExponent(1) }, { pem: pemOf(rsaWithExponent(1)) }]) {
        const response = await patchJwt([keyIssuer([goodEcEntry, { kid: 'e1', alg: 'RS256', ...entry }])]);
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({
          error: {
            code: 'invalid_request',
            message: expect.stringMatching(
              /^strategies\.jwt\.issuers\.0\.publicKeys\.1: key refused: RSA public exponent 1/,
            ),
          },
        });
      }
      expect(await settingsNow()).toEqual(before);
    });

    const refused: [string, Issuer, RegExp][] = [
      [
        'e = 3 without an opt-in',
        { kid: 'k', alg: 'RS256', pem: rsaE3.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
        /publicKeys\.0: key refused: RSA public exponent 3 is not 65537/,
      ],
      [
        'an even exponent, even opted in',
        { kid: 'k', alg: 'RS256', jwk: rsaWithExponent(65536), rsaExponent: 65536 },
        /publicKeys\.0: key refused: RSA public exponent 65536 is even/,
      ],
      [
        'e = 1 with an opt-in for 3',
        { kid: 'k', alg: 'RS256', jwk: rsaWithExponent(1), rsaExponent: 3 },
        /publicKeys\.0: key refused: RSA public exponent 1/,
      ],
      [
        'a 1024-bit key',
        {
          kid: 'k',
          alg: 'RS256',
          pem: generateKeyPairSync('rsa', { modulusLength: 1024 })
            .publicKey.export({ type: 'spki', format: 'pem' })
            .toString(),
        },
        /publicKeys\.0: key refused: RSA modulus of 1024 bits/,
      ],
      [
        'a 1024-bit modulus padded to 256 bytes with zeros',
        { kid: 'k', alg: 'RS256', jwk: paddedShortRsaJwk() },
        /publicKeys\.0: key refused: RSA modulus of 1024 bits/,
      ],
      [
        'a ROCA-vulnerable key',
        { kid: 'k', alg: 'RS256', pem: ROCA_2048_PEM },
        /publicKeys\.0: key refused: RSA modulus with the ROCA fingerprint/,
      ],
      [
        'a key whose primes are close (Fermat)',
        { kid: 'k', alg: 'PS256', pem: FERMAT_2048_PEM },
        /publicKeys\.0: key refused: RSA modulus whose two primes are so close/,
      ],
      [
        'a P-256 point off the curve',
        { kid: 'k', alg: 'ES256', jwk: offCurveP256Jwk() },
        /publicKeys\.0: jwk is not a valid public key \(EC key whose point is not on P-256\)/,
      ],
      [
        'an Ed25519 key of 31 bytes',
        { kid: 'k', alg: 'EdDSA', jwk: { kty: 'OKP', crv: 'Ed25519', x: randomBytes(31).toString('base64url') } },
        /publicKeys\.0: jwk is not a valid public key \(Ed25519 key whose x is not 32 bytes\)/,
      ],
      [
        'the Ed25519 identity key',
        { kid: 'k', alg: 'EdDSA', jwk: ED25519_IDENTITY_JWK },
        /publicKeys\.0: key refused: Ed25519 key of small order/,
      ],
    ];
    it.each(refused)('refuses %s', async (_name, entry, message) => {
      const before = await settingsNow();
      const response = await patchJwt([
        { id: 'first', audience: 'x', secrets: [{ alg: 'HS256', secret: SECRET }] },
        keyIssuer([entry]),
      ]);
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body).toMatchObject({
        error: {
          code: 'invalid_request',
          message: expect.stringMatching(new RegExp(`^strategies\\.jwt\\.issuers\\.1\\.${message.source}`)),
        },
      });
      expect(await settingsNow()).toEqual(before);
    });

    it("refuses an opt-in for e = 1 (the admin API's schema: at least 3)", async () => {
      const response = await patchJwt([
        keyIssuer([{ kid: 'k', alg: 'RS256', jwk: rsaWithExponent(1), rsaExponent: 1 }]),
      ]);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        error: {
          code: 'invalid_request',
          details: expect.arrayContaining([
            expect.objectContaining({ path: expect.stringContaining('/publicKeys/0/rsaExponent') }),
          ]),
        },
      });
    });

    it('accepts e = 3 with its opt-in, and a token of that key logs in', async () => {
      const pem = rsaE3.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const response = await patchJwt([keyIssuer([{ kid: 'e3', alg: 'RS256', pem, rsaExponent: 3 }])]);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      const token = await new SignJWT(claims({ sub: 'e3-user' }))
        .setProtectedHeader({ alg: 'RS256', kid: 'e3' })
        .sign(rsaE3.privateKey);
      expect((await login(token)).status).toBe(201);
    });
  });

  describe('keys from a JWKS URL', () => {
    const serve = (path: string, keys: Jwk[]) => web.routes.set(path, (response) => json(200, { keys })(response));
    const jwksIssuer = (path: string, extra: Issuer = {}): Issuer => ({
      id: 'set',
      issuer: ISS,
      audience: 'demo-chat',
      jwks: { url: `${web.url}${path}`, algorithms: ['RS256', 'ES256', 'EdDSA'], ...extra },
      autoProvision: true,
    });

    it("skips and logs an e = 1 key: the forged token is refused, the set's other keys still log in", async () => {
      serve('/forge', [
        { ...rsaWithExponent(1), kid: 'forged' },
        { ...jwkOf(ec.publicKey), kid: 'good' },
      ]);
      expect((await patchJwt([jwksIssuer('/forge')])).status).toBe(200);
      const forged = forgedRs256('forged');
      expectRefused(await login(forged), 'unknown_key');
      const warning = logs.last('trusted issuer key refused');
      expect(warning).toMatchObject({
        level: 40,
        app: 'demo/chat',
        issuer: 'set',
        url: `${web.url}/forge`,
        kid: 'forged',
        reason: expect.stringMatching(/RSA public exponent 1/),
      });
      // Without a kid the forged token finds no usable RSA key either.
      expectRefused(
        await login(
          forgedRs256('').replace(
            b64(JSON.stringify({ alg: 'RS256', kid: '' })),
            b64(JSON.stringify({ alg: 'RS256' })),
          ),
        ),
        'unknown_key',
      );
      const good = await new SignJWT(claims({ sub: 'jwks-user' }))
        .setProtectedHeader({ alg: 'ES256', kid: 'good' })
        .sign(ec.privateKey);
      expect((await login(good)).status).toBe(201);
      // Judged once per fetched key: no warning per login.
      expectRefused(await login(forged), 'unknown_key');
      expect(logs.withMessage('trusted issuer key refused').filter((line) => line.kid === 'forged')).toHaveLength(1);
      // The token itself is never written to the log.
      expect(logs.text).not.toContain(forged.split('.')[2]);
    });

    it('skips every other forgeable key of a set, and an issuer may opt in to e = 3', async () => {
      const e3 = { ...jwkOf(rsaE3.publicKey), kid: 'e3' };
      serve('/weak', [
        { ...rsaWithExponent(3), kid: 'e3-other' },
        e3,
        { ...paddedShortRsaJwk(), kid: 'padded' },
        { ...jwkOf(ROCA_2048_PEM), kid: 'roca' },
        { ...offCurveP256Jwk(), kid: 'off-curve' },
        { ...ED25519_IDENTITY_JWK, kid: 'identity' },
        { kty: 'OKP', crv: 'Ed25519', x: randomBytes(31).toString('base64url'), kid: 'short-ed' },
      ]);
      expect((await patchJwt([jwksIssuer('/weak')])).status).toBe(200);
      expectRefused(await login(forgedEdDsa('identity')), 'unknown_key');
      const reasons = Object.fromEntries(
        logs
          .withMessage('trusted issuer key refused')
          .filter((line) => line.url === `${web.url}/weak`)
          .map((line) => [line.kid, line.reason]),
      );
      expect(reasons).toEqual({
        'e3-other': expect.stringMatching(/exponent 3 is not 65537/),
        e3: expect.stringMatching(/exponent 3 is not 65537/),
        padded: expect.stringMatching(/1024 bits/),
        roca: expect.stringMatching(/ROCA/),
        'off-curve': expect.stringMatching(/not on P-256/),
        identity: expect.stringMatching(/small order/),
        'short-ed': expect.stringMatching(/not 32 bytes/),
      });
      const e3Token = await new SignJWT(claims({ sub: 'e3-jwks' }))
        .setProtectedHeader({ alg: 'RS256', kid: 'e3' })
        .sign(rsaE3.privateKey);
      expectRefused(await login(e3Token), 'unknown_key');
      // The opt-in: exponents besides 65537 for the whole set; 1 can never be one of them.
      expect((await patchJwt([jwksIssuer('/weak', { rsaExponents: [1] })])).status).toBe(400);
      expect((await patchJwt([jwksIssuer('/weak', { rsaExponents: [3] })])).status).toBe(200);
      expect((await login(e3Token)).status).toBe(201);
      expectRefused(await login(forgedEdDsa('identity')), 'unknown_key');
    });
  });

  it('keeps serving an app whose settings hold a key stored before the checks: the key is refused at login and logged', async () => {
    const app = await server.tessera.services.apps.getApp('demo', 'chat');
    const issuer = keyIssuer([{ kid: 'legacy', alg: 'RS256', jwk: rsaWithExponent(1) }]);
    const stored = structuredClone(app.settings);
    Object.assign(stored.strategies.jwt, {
      enabled: true,
      issuers: [
        {
          ...issuer,
          userIdClaim: 'sub',
          claims: {},
          requirePublishableKeySubject: false,
          requireExpiry: true,
          clockSkew: 30,
          singleUse: false,
          matchExistingUserBy: null,
          updateProfile: true,
        },
      ],
    });
    // As an older version wrote it: straight to the store, past today's write checks (no secrets here to seal).
    await server.tessera.services.store.db
      .updateTable('apps')
      .set({ settings: JSON.stringify(stored) })
      .where('id', '=', app.id)
      .execute();
    server = await server.restart();
    // The app loads and serves everything else.
    expect((await signUpAndLogIn(server)).login.user).toBeDefined();
    expectRefused(await login(forgedRs256('legacy')), 'unknown_key');
    expect(logs.last('trusted issuer key refused')).toMatchObject({
      app: 'demo/chat',
      issuer: 'keys',
      kid: 'legacy',
      reason: expect.stringMatching(/exponent 1/),
    });
    // A write of the settings names the key to fix.
    const patch = await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      token: server.adminToken,
      body: { settings: { publicSignup: true } },
    });
    expect(patch.body).toMatchObject({
      error: {
        code: 'invalid_request',
        message: expect.stringMatching(
          /^strategies\.jwt\.issuers\.0\.publicKeys\.0: key refused: RSA public exponent 1/,
        ),
      },
    });
    expect((await patchJwt([keyIssuer([goodEcEntry])])).status).toBe(200);
  });

  describe('time claims and lifetimes', () => {
    const hs = (extra: Issuer = {}): Issuer => ({
      id: 'hs',
      issuer: ISS,
      audience: 'demo-chat',
      secrets: [{ alg: 'HS256', secret: SECRET }],
      autoProvision: true,
      ...extra,
    });
    const hsToken = (overrides: Record<string, unknown>) =>
      handMade({ alg: 'HS256' }, claims({ sub: `hs-${randomBytes(4).toString('hex')}`, ...overrides }), SECRET);

    it("refuses tokens that live longer than the issuer's maxTokenLifetime, or do not say", async () => {
      expect((await patchJwt([hs({ maxTokenLifetime: 3600 })])).status).toBe(200);
      expect((await login(hsToken({ exp: now() + 3600 }))).status).toBe(201);
      expectRefused(await login(hsToken({ exp: now() + 3601 })), 'lifetime_too_long');
      expectRefused(await login(hsToken({ iat: undefined })), 'missing_claim');
      expect(logs.last('external token refused')).toMatchObject({ claim: 'iat', issuer: 'hs' });
      expectRefused(await login(hsToken({ exp: 1e300 })), 'bad_time_claim');
      // Without the setting, a long-lived token is the issuer's choice.
      expect((await patchJwt([hs()])).status).toBe(200);
      expect((await login(hsToken({ exp: now() + 10 * 365 * 86_400 }))).status).toBe(201);
      expect((await patchJwt([hs({ maxTokenLifetime: 0 })])).status).toBe(400);
    });

    it('refuses the same token whatever failed, over the realtime socket too', async () => {
      expect((await patchJwt([hs()])).status).toBe(200);
      const bad = [
        hsToken({ exp: now() - 3600 }),
        handMade({ alg: 'HS256' }, claims(), `${SECRET}x`),
        hsToken({ aud: 'other' }),
      ];
      const answers = await Promise.all(bad.map((token) => login(token)));
      for (const answer of answers) expect(answer.body).toEqual(REFUSED);
      const socket = await connect(server, { key: server.publishableKey });
      socket.send({ type: 'authenticate', strategy: 'jwt', token: bad[0] });
      const closed = await socket.waitClosed();
      expect(closed).toMatchObject({ error: 'invalid_token', reason: 'invalid_token' });
      for (const frame of socket.frames) expect(JSON.stringify(frame)).not.toMatch(/expired|exp|details/);
      expect(logs.last('external token refused')).toMatchObject({ reason: 'expired', claim: 'exp' });
    });
  });

  describe('shared secrets', () => {
    const weak: [string, Record<string, unknown>, RegExp][] = [
      ['one character repeated', { secret: 'a'.repeat(64) }, /one character repeated/],
      ['a repeated word', { secret: 'secret'.repeat(8) }, /pattern of 6 characters/],
      ['few distinct characters', { secret: '0110100110010110'.repeat(2) + '1001011001101001' }, /distinct|pattern/],
      ['consecutive characters', { secret: 'abcdefghijklmnopqrstuvwxyz0123456789' }, /consecutive/],
      ['a public JWK', { secret: JSON.stringify(goodRsaJwk()) }, /is a JWK/],
      [
        'a private JWK',
        {
          secret: JSON.stringify(
            generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
          ),
        },
        /is a JWK/,
      ],
      ['a PEM', { secret: ROCA_2048_PEM }, /PEM/],
      [
        '32 zero bytes in base64',
        { secret: Buffer.alloc(32).toString('base64'), encoding: 'base64' },
        /repeated|pattern/,
      ],
      ['hex of a repeated word', { secret: Buffer.from('password'.repeat(4)).toString('hex') }, /pattern/],
    ];
    it.each(weak)('refuses %s, naming the path and how to make one, without echoing it', async (_name, entry, why) => {
      const response = await patchJwt([
        {
          id: 'weak',
          audience: 'x',
          secrets: [
            { alg: 'HS256', secret: SECRET },
            { alg: 'HS256', kid: 'two', ...entry },
          ],
        },
      ]);
      expect(response.status).toBe(400);
      const { message } = (response.body as unknown as { error: { message: string } }).error;
      expect(message).toMatch(/^strategies\.jwt\.issuers\.0\.secrets\.1: secret /);
      expect(message).toMatch(why);
      expect(message).toContain('openssl rand -base64 32');
      expect(JSON.stringify(response.body)).not.toContain(String(entry.secret).slice(0, 24));
    });
  });
});
