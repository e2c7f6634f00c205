import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, redisUrl } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, signUp, uniqueEmail } from '../helpers/users.js';

const SECOND = 1000;
type Answer = { error?: { code: string } };

const attempt = (server: TestServer, email: string, password: string, ip?: string) =>
  server.api<Answer>('POST', '/v1/apps/demo/chat/authentication', {
    key: server.publishableKey,
    body: { strategy: 'local', email, password },
    ...(ip === undefined ? {} : { headers: { 'x-forwarded-for': ip } }),
  });

describe.each(backends)('brute-force protection on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    // Behind a proxy the caller's address comes from X-Forwarded-For, which lets the test play several clients.
    server = await startTestServer(backend, { trustProxy: true });
  });
  afterAll(() => server.close());

  it('makes an account wait after repeated wrong passwords, doubling the wait, and forgives after a right one', async () => {
    const email = uniqueEmail('victim');
    await signUp(server, { email });
    for (let failure = 1; failure <= 5; failure += 1) {
      expect((await attempt(server, email, `wrong password ${failure}`, `10.0.0.${failure}`)).body.error?.code).toBe(
        'invalid_credentials',
      );
    }
    // Locked: even the right password waits, from any address, and says for how long.
    const locked = await attempt(server, email, PASSWORD, '10.0.1.1');
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: { code: 'rate_limited', status: 429 } });
    expect(locked.headers.get('retry-after')).toBe('1');

    server.clock.advance(SECOND);
    expect((await attempt(server, email, 'wrong password 6', '10.0.1.2')).body.error?.code).toBe('invalid_credentials');
    expect((await attempt(server, email, PASSWORD, '10.0.1.3')).headers.get('retry-after')).toBe('2');
    server.clock.advance(2 * SECOND);
    expect((await attempt(server, email, PASSWORD, '10.0.1.4')).status).toBe(201);
    // The right password cleared the account's count: one more mistake does not lock it.
    expect((await attempt(server, email, 'one more typo', '10.0.1.5')).body.error?.code).toBe('invalid_credentials');
    expect((await attempt(server, email, PASSWORD, '10.0.1.6')).status).toBe(201);
  });

  it('makes a password change wait after repeated wrong old passwords', async () => {
    const email = uniqueEmail('changer');
    await signUp(server, { email });
    const login = await server.api<{ accessToken: string }>('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    const change = (oldPassword: string) =>
      server.api<Answer>('PATCH', '/v1/apps/demo/chat/me', {
        token: login.body.accessToken,
        body: { oldPassword, password: 'a brand new passphrase' },
      });
    for (let failure = 1; failure <= 5; failure += 1)
      expect((await change(`guess ${failure}`)).body.error?.code).toBe('wrong_password');
    const locked = await change(PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('1');
    server.clock.advance(SECOND);
    expect((await change(PASSWORD)).status).toBe(200);
  });

  it('locks unknown accounts the same way, so lockouts reveal nothing', async () => {
    const ghost = uniqueEmail('ghost');
    for (let failure = 1; failure <= 5; failure += 1)
      await attempt(server, ghost, `guess ${failure}`, `10.1.0.${failure}`);
    expect((await attempt(server, ghost, 'guess 6', '10.1.0.9')).body.error?.code).toBe('rate_limited');
  });

  it('makes one address wait after wrong passwords across many accounts', async () => {
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      token: server.adminToken,
      body: { settings: { loginThrottle: { ipMaxFailures: 3 } } },
    });
    try {
      const email = uniqueEmail('sprayed');
      await signUp(server, { email });
      for (let index = 1; index <= 3; index += 1) await attempt(server, uniqueEmail('spray'), PASSWORD, '192.0.2.7');
      expect((await attempt(server, email, PASSWORD, '192.0.2.7')).body.error?.code).toBe('rate_limited');
      // Another address is not affected.
      expect((await attempt(server, email, PASSWORD, '192.0.2.8')).status).toBe(201);
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        token: server.adminToken,
        body: { settings: { loginThrottle: { ipMaxFailures: 50 } } },
      });
    }
  });
});

describe.each(backends)('the client address behind a proxy that appends to X-Forwarded-For on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    // 127.0.0.1 plays the proxy, listed as trusted; it appends the address it saw to what the client sent.
    server = await startTestServer(backend, { trustedProxies: 'loopback' });
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      token: server.adminToken,
      body: { settings: { loginThrottle: { ipMaxFailures: 3 } } },
    });
  });
  afterAll(() => server.close());

  it('is the address the proxy saw: a client that writes its own header still meets the per-address limit', async () => {
    const email = uniqueEmail('behind-proxy');
    await signUp(server, { email });
    for (let index = 1; index <= 3; index += 1)
      await attempt(server, uniqueEmail('spray'), PASSWORD, `198.51.100.${index}, 192.0.2.7`);
    expect((await attempt(server, email, PASSWORD, '198.51.100.99, 192.0.2.7')).body.error?.code).toBe('rate_limited');

    // Another client behind the same proxy logs in, and its session records the address the proxy saw.
    const login = await attempt(server, email, PASSWORD, '192.0.2.7, 192.0.2.8');
    expect(login.status).toBe(201);
    const token = (login.body as unknown as { accessToken: string }).accessToken;
    const sessions = await server.api<{ items: { ip: string }[] }>('GET', '/v1/apps/demo/chat/me/sessions', { token });
    expect(sessions.body.items.map((session) => session.ip)).toEqual(['192.0.2.8']);
  });
});

// Runs wherever Redis is configured (always under CI, which refuses to run without it).
describe.each(redisUrl === undefined ? [] : [redisUrl])('brute-force counters in Redis at %s', (url) => {
  let server: TestServer;
  beforeAll(async () => {
    const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`;
    server = await startTestServer(backends[0]!, { redisUrl: url, redisKeyPrefix: prefix });
    // Redis expires the lock by its own clock: make it long enough to outlast a slow restart.
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      token: server.adminToken,
      body: { settings: { loginThrottle: { baseDelay: 300 } } },
    });
  });
  afterAll(() => server.close());

  it('survive a node restart', async () => {
    const email = uniqueEmail('restart');
    await signUp(server, { email });
    for (let failure = 1; failure <= 5; failure += 1) await attempt(server, email, `wrong ${failure}`);
    expect((await attempt(server, email, PASSWORD)).body.error?.code).toBe('rate_limited');
    server = await server.restart();
    const afterRestart = await attempt(server, email, PASSWORD);
    expect(afterRestart.body.error?.code).toBe('rate_limited');
    expect(Number(afterRestart.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
