import { randomBytes } from 'node:crypto';
import type { AuthenticationResult, User } from '@tessera/protocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EphemeralStore } from '../../src/cluster/index.js';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type ApiResponse, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

// Issue 12, item 5: abuse limits on every unauthenticated write, and on guesses of credentials.

const SECOND = 1000;
const WINDOW = 60;

type Answer = { error?: { code: string; details?: { retryAfterSeconds?: number } } };

/** The answer of a refused request: 429 rate_limited, and a Retry-After within the window that the body repeats. */
function expectRateLimited(response: ApiResponse<unknown>, window = WINDOW): void {
  expect(response.status, JSON.stringify(response.body)).toBe(429);
  expect(response.body).toMatchObject({ error: { code: 'rate_limited', status: 429 } });
  const retryAfter = response.headers.get('retry-after');
  expect(retryAfter).toMatch(/^[1-9][0-9]*$/);
  expect(Number(retryAfter)).toBeLessThanOrEqual(window);
  expect((response.body as Answer).error?.details?.retryAfterSeconds).toBe(Number(retryAfter));
}

/** Each test plays clients at its own addresses: the server believes X-Forwarded-For (trustProxy). */
let nextSubnet = 0;
function addresses(): (host: number) => string {
  nextSubnet += 1;
  return (host) => `10.${nextSubnet}.0.${host}`;
}

describe.each(backends)('abuse limits (issue 12) on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { trustProxy: true });
  });
  afterAll(() => server.close());

  const limited = (limits: Record<string, unknown>, settings: Record<string, unknown> = {}) =>
    createApp(server, { rateLimits: limits, ...settings });
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const signup = (app: TestApp, ip: string, key = app.publishableKey, email = uniqueEmail('limited')) =>
    server.api<User & Answer>('POST', `${app.path}/users`, {
      key,
      headers: from(ip),
      body: { email, password: PASSWORD },
    });
  const login = (app: TestApp, ip: string, body: Record<string, unknown>, key = app.publishableKey) =>
    server.api<AuthenticationResult & Answer>('POST', `${app.path}/authentication`, { key, headers: from(ip), body });

  it('limits signups with the publishable key per address and per app, not with the secret key, until the window ends', async () => {
    const app = await limited({ signup: { perAddress: 2, perApp: 3, window: WINDOW } });
    const at = addresses();
    expect((await signup(app, at(1))).status).toBe(201);
    expect((await signup(app, at(1))).status).toBe(201);
    const refusedEmail = uniqueEmail('refused');
    expectRateLimited(await signup(app, at(1), app.publishableKey, refusedEmail));

    // Another address has its own count, until the app's is used up.
    expect((await signup(app, at(2))).status).toBe(201);
    expectRateLimited(await signup(app, at(3)));
    // The app's backend is not limited.
    expect((await signup(app, at(3), app.secretKey)).status).toBe(201);

    server.clock.advance(WINDOW * SECOND);
    // A refused signup created nothing: its email is still free.
    expect((await signup(app, at(1), app.publishableKey, refusedEmail)).status).toBe(201);
  });

  it('counts an IPv6 client by its /64, so that it cannot take a new address for each try', async () => {
    const app = await limited({ signup: { perAddress: 2, perApp: 100, window: WINDOW } });
    expect((await signup(app, '2001:db8:12:1::1')).status).toBe(201);
    expect((await signup(app, '2001:db8:12:1::2')).status).toBe(201);
    expectRateLimited(await signup(app, '2001:db8:12:1:ffff:ffff:ffff:ffff'));
    expect((await signup(app, '2001:db8:12:2::1')).status).toBe(201);
  });

  it.each([
    ['anonymous', 'anonymousLogin', { strategy: 'anonymous', displayName: 'Visitor' }],
    ['guest', 'guestLogin', { strategy: 'guest', fullName: 'Grace Guest' }],
  ])('limits %s logins per address and per app, until the window ends', async (strategy, setting, body) => {
    const app = await limited(
      { [setting]: { perAddress: 2, perApp: 3, window: WINDOW } },
      { strategies: { [strategy]: { enabled: true } } },
    );
    const at = addresses();
    for (let attempt = 0; attempt < 2; attempt += 1) expect((await login(app, at(1), body)).status).toBe(201);
    expectRateLimited(await login(app, at(1), body));
    expect((await login(app, at(2), body)).status).toBe(201);
    expectRateLimited(await login(app, at(3), body));

    server.clock.advance(WINDOW * SECOND);
    expect((await login(app, at(1), body)).status).toBe(201);
  });

  it('limits reconnect-token refreshes per address, per token and per app', async () => {
    const app = await limited(
      { reconnect: { perAddress: 2, perToken: 2, perApp: 4, window: WINDOW } },
      { strategies: { anonymous: { enabled: true } } },
    );
    const at = addresses();
    const fresh = async (ip: string) => (await login(app, ip, { strategy: 'anonymous' })).body.reconnectToken;

    // Per address: each refresh spends a token and gets the next one.
    let token = await fresh(at(1));
    for (let refresh = 0; refresh < 2; refresh += 1) {
      const answer = await login(app, at(1), { strategy: 'reconnect', token });
      expect(answer.status).toBe(201);
      token = answer.body.reconnectToken;
    }
    expectRateLimited(await login(app, at(1), { strategy: 'reconnect', token }));

    // Per token, whatever the address: a lost answer may be retried, but not without end.
    const retried = await fresh(at(2));
    expect((await login(app, at(2), { strategy: 'reconnect', token: retried })).status).toBe(201);
    expect((await login(app, at(3), { strategy: 'reconnect', token: retried })).status).toBe(201);
    expectRateLimited(await login(app, at(4), { strategy: 'reconnect', token: retried }));

    // Per app: four refreshes were counted (two refused ones were not); the next address is refused.
    expectRateLimited(await login(app, at(5), { strategy: 'reconnect', token: await fresh(at(5)) }));

    server.clock.advance(WINDOW * SECOND);
    expect((await login(app, at(1), { strategy: 'reconnect', token })).status).toBe(201);
  });

  describe('guesses of credentials: failures count, successes do not', () => {
    interface Guess {
      /** A request with a forged credential, and the code it is refused with under the limit. */
      forged: (app: TestApp, ip: string) => Promise<ApiResponse<Answer>>;
      refusedWith: string;
      /** The same request with a real credential. */
      genuine: (app: TestApp, ip: string) => Promise<ApiResponse<unknown>>;
      settings?: Record<string, unknown>;
    }
    const hsSecret = randomBytes(32).toString('base64url');
    // Times by the server's clock, which the tests move forward.
    const partnerToken = (secret: string) => {
      const now = Math.floor(server.clock.now() / SECOND);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('partner-user-1')
        .setAudience('chat')
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(Buffer.from(secret));
    };
    const meWith = (app: TestApp, ip: string, token: string) =>
      server.api<Answer>('GET', `${app.path}/me`, { token, headers: from(ip) });
    const accessTokenOf = async (app: TestApp) => (await login(app, '192.0.2.200', { strategy: 'anonymous' })).body;

    const guesses: [string, Guess][] = [
      [
        'an access token (REST bearer)',
        {
          forged: async (app, ip) => meWith(app, ip, `${(await accessTokenOf(app)).accessToken.slice(0, -4)}AAAA`),
          refusedWith: 'invalid_token',
          genuine: async (app, ip) => meWith(app, ip, (await accessTokenOf(app)).accessToken),
        },
      ],
      [
        'an API key',
        {
          forged: (app, ip) =>
            login(
              app,
              ip,
              { strategy: 'anonymous' },
              `pk_${randomBytes(12).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
            ),
          refusedWith: 'invalid_api_key',
          genuine: (app, ip) => login(app, ip, { strategy: 'anonymous' }),
        },
      ],
      [
        'a reconnect token',
        {
          forged: async (app, ip) =>
            login(app, ip, {
              strategy: 'reconnect',
              token: `${(await accessTokenOf(app)).reconnectToken.slice(0, -4)}AAAA`,
            }),
          refusedWith: 'invalid_token',
          genuine: async (app, ip) =>
            login(app, ip, { strategy: 'reconnect', token: (await accessTokenOf(app)).reconnectToken }),
        },
      ],
      [
        'an auth token',
        {
          forged: (app, ip) =>
            login(app, ip, {
              strategy: 'auth-token',
              token: `at_${randomBytes(12).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
            }),
          refusedWith: 'invalid_token',
          genuine: async (app, ip) => {
            const user = (await signup(app, '192.0.2.200', app.secretKey)).body;
            const created = await server.api<{ token: string }>('POST', `${app.path}/users/${user.id}/auth-tokens`, {
              key: app.secretKey,
              body: {},
            });
            return login(app, ip, { strategy: 'auth-token', token: created.body.token });
          },
          settings: { strategies: { 'auth-token': { enabled: true } } },
        },
      ],
      [
        "a trusted issuer's JWT",
        {
          forged: async (app, ip) =>
            login(app, ip, { strategy: 'jwt', token: await partnerToken(randomBytes(32).toString('base64url')) }),
          refusedWith: 'invalid_token',
          genuine: async (app, ip) => login(app, ip, { strategy: 'jwt', token: await partnerToken(hsSecret) }),
          settings: {
            autoProvisionUsers: true,
            strategies: {
              jwt: {
                enabled: true,
                issuers: [{ id: 'partner', audience: 'chat', secrets: [{ alg: 'HS256', secret: hsSecret }] }],
              },
            },
          },
        },
      ],
    ];

    it.each(guesses)(
      'limits guesses of %s per address; a refused address is refused before any check, until the window ends',
      async (_kind, guess) => {
        const app = await limited(
          { failedCredentials: { perAddress: 3, perApp: 1000, window: WINDOW } },
          { strategies: { anonymous: { enabled: true } }, ...guess.settings },
        );
        const at = addresses();
        for (let failure = 0; failure < 3; failure += 1)
          expect((await guess.forged(app, at(1))).body.error?.code).toBe(guess.refusedWith);
        expectRateLimited(await guess.forged(app, at(1)));
        // Refused before the check: even a real credential waits, from that address only.
        expectRateLimited(await guess.genuine(app, at(1)));
        expect((await guess.genuine(app, at(2))).status).toBeLessThan(300);

        server.clock.advance(WINDOW * SECOND);
        expect((await guess.genuine(app, at(1))).status).toBeLessThan(300);
        expect((await guess.forged(app, at(1))).body.error?.code).toBe(guess.refusedWith);
      },
    );

    it('limits guesses of admin tokens per address', async () => {
      const at = addresses();
      const admin = (ip: string, token: string) =>
        server.api<Answer>('GET', '/v1/admin/apps', { token, headers: from(ip) });
      const forged = () => `adm_${randomBytes(12).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
      // The admin API belongs to no app: the default limit, 100 failures per address in 10 minutes.
      for (let failure = 0; failure < 100; failure += 1)
        expect((await admin(at(1), forged())).body.error?.code).toBe('invalid_admin_token');
      expectRateLimited(await admin(at(1), forged()), 600);
      expect((await admin(at(1), server.adminToken)).status).toBe(429);
      expect((await admin(at(2), server.adminToken)).status).toBe(200);
      server.clock.advance(600 * SECOND);
      expect((await admin(at(1), server.adminToken)).status).toBe(200);
    });

    it("counts failed logins per app too, which then refuses token logins from every address, but not the app's signed-in users", async () => {
      const app = await limited(
        { failedCredentials: { perAddress: 100, perApp: 3, window: WINDOW } },
        { strategies: { anonymous: { enabled: true } } },
      );
      const at = addresses();
      const signedIn = await accessTokenOf(app);
      const forgedReconnect = {
        strategy: 'reconnect',
        token: `rt_${randomBytes(12).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
      };
      for (let host = 1; host <= 3; host += 1)
        expect((await login(app, at(host), forgedReconnect)).body.error?.code).toBe('invalid_token');
      expectRateLimited(await login(app, at(4), forgedReconnect));
      expectRateLimited(await login(app, at(5), { strategy: 'reconnect', token: signedIn.reconnectToken }));
      // Authenticated calls are counted per address only: one app-wide count would let anyone lock every user out.
      expect((await meWith(app, at(6), signedIn.accessToken)).status).toBe(200);
      server.clock.advance(WINDOW * SECOND);
      expect((await login(app, at(5), { strategy: 'reconnect', token: signedIn.reconnectToken })).status).toBe(201);
    });
  });

  it('leaves a legitimate user alone with the defaults, and an authenticated call touches no counter', async () => {
    const app = await createApp(server, { strategies: { anonymous: { enabled: true } } });
    const ip = addresses()(1);
    const email = uniqueEmail('legit');
    expect((await signup(app, ip, app.publishableKey, email)).status).toBe(201);
    let session = (await login(app, ip, { strategy: 'local', email, password: PASSWORD })).body;
    for (let refresh = 0; refresh < 10; refresh += 1) {
      const answer = await login(app, ip, { strategy: 'reconnect', token: session.reconnectToken });
      expect(answer.status).toBe(201);
      session = answer.body;
    }
    // Another client at another address is refused for guessing meanwhile.
    const guesser = addresses()(1);
    for (let failure = 0; failure < 100; failure += 1)
      expect(
        (await server.api<Answer>('GET', `${app.path}/me`, { token: 'not.a.token', headers: from(guesser) })).body.error
          ?.code,
      ).toBe('invalid_token');
    expect((await server.api('GET', `${app.path}/me`, { token: 'not.a.token', headers: from(guesser) })).status).toBe(
      429,
    );

    const counted = countStoreCalls(server.tessera.services.cluster.ephemeral);
    try {
      for (let call = 0; call < 20; call += 1)
        expect(
          (await server.api('GET', `${app.path}/me`, { token: session.accessToken, headers: from(ip) })).status,
        ).toBe(200);
      expect(counted.calls).toBe(0);
      // Whereas a failed check is counted.
      await server.api('GET', `${app.path}/me`, { token: 'not.a.token', headers: from(ip) });
      expect(counted.calls).toBeGreaterThan(0);
    } finally {
      counted.restore();
    }
  });

  it('refuses bad limit settings with 400 naming the setting, and keeps the settings it had', async () => {
    const app = await createApp(server);
    const path = `/v1/admin/apps/${app.namespace}/${app.name}`;
    const before = await server.api<{ settings: unknown }>('GET', path, { token: server.adminToken });
    const refused: [unknown, string][] = [
      [{ signup: { perAddress: -1 } }, 'rateLimits/signup/perAddress'],
      [{ reconnect: { window: 0 } }, 'rateLimits/reconnect/window'],
      [{ failedCredentials: { perApp: 'many' } }, 'rateLimits/failedCredentials/perApp'],
      [{ guestLogin: { perAddress: 1.5 } }, 'rateLimits/guestLogin/perAddress'],
      [{ anonymousLogin: { perMinute: 5 } }, 'rateLimits/anonymousLogin'],
      [{ signup: { perToken: 5 } }, 'rateLimits/signup'],
    ];
    for (const [rateLimits, named] of refused) {
      const response = await server.api<Answer>('PATCH', path, {
        token: server.adminToken,
        body: { settings: { rateLimits } },
      });
      expect(response.status, JSON.stringify(rateLimits)).toBe(400);
      expect(JSON.stringify(response.body)).toContain(named);
    }
    expect((await server.api('GET', path, { token: server.adminToken })).body).toEqual(before.body);

    const accepted = await server.api<{ settings: { rateLimits: unknown } }>('PATCH', path, {
      token: server.adminToken,
      body: { settings: { rateLimits: { signup: { perApp: 0 } } } },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.settings.rateLimits).toMatchObject({
      signup: { perAddress: 100, perApp: 0, window: 3600 },
      reconnect: { perAddress: 600, perToken: 60, perApp: 0, window: 300 },
    });
  });
});

/** Watches the real store's methods (each call still goes through): what an authenticated request must not cost. */
function countStoreCalls(store: EphemeralStore): { readonly calls: number; restore(): void } {
  const spies = (['setEx', 'get', 'take', 'incrWithTtl', 'ttl', 'delete'] as const).map((method) =>
    vi.spyOn(store, method),
  );
  return {
    get calls() {
      return spies.reduce((total, spy) => total + spy.mock.calls.length, 0);
    },
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}
