import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connect, type TestClient } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 12, item 5: the abuse limits hold over the realtime socket as over REST, with the same counts.

const SECOND = 1000;
const WINDOW = 60;
const RATE_LIMITED_CLOSE = 4008;

describe.each(backends)('abuse limits over the realtime socket (issue 12) on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    // X-Forwarded-For is believed at the upgrade as on REST: the tests play several client addresses.
    server = await startTestServer(backend, { trustProxy: true });
  });
  afterAll(() => server.close());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const socketFrom = (app: TestApp, ip: string, token?: string) =>
    connect(server, { app, key: app.publishableKey, headers: from(ip), ...(token === undefined ? {} : { token }) });
  const restLogin = (app: TestApp, ip: string, body: Record<string, unknown>) =>
    server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      headers: from(ip),
      body,
    });

  async function anonymousSocket(app: TestApp, ip: string): Promise<TestClient> {
    const client = await socketFrom(app, ip);
    client.send({ type: 'authenticate', strategy: 'anonymous' });
    return client;
  }

  it('closes an authenticate frame over the limit with rate_limited (4008); REST and the socket share one count', async () => {
    const app = await createApp(server, {
      strategies: { anonymous: { enabled: true } },
      rateLimits: { anonymousLogin: { perAddress: 2, perApp: 100, window: WINDOW } },
    });
    expect((await restLogin(app, '203.0.113.1', { strategy: 'anonymous' })).status).toBe(201);
    const second = await anonymousSocket(app, '203.0.113.1');
    await second.next('authenticated');

    const third = await anonymousSocket(app, '203.0.113.1');
    expect(await third.waitClosed()).toEqual({
      code: RATE_LIMITED_CLOSE,
      reason: 'rate_limited',
      error: 'rate_limited',
    });
    expect((await restLogin(app, '203.0.113.1', { strategy: 'anonymous' })).status).toBe(429);

    const elsewhere = await anonymousSocket(app, '203.0.113.2');
    await elsewhere.next('authenticated');
    server.clock.advance(WINDOW * SECOND);
    const later = await anonymousSocket(app, '203.0.113.1');
    await later.next('authenticated');
    await Promise.all([second, elsewhere, later].map((client) => client.close()));
  });

  it('answers a refresh over the limit with an error frame saying how long to wait, and keeps the connection', async () => {
    const app = await createApp(server, {
      strategies: { anonymous: { enabled: true } },
      rateLimits: { reconnect: { perAddress: 2, perToken: 10, perApp: 100, window: WINDOW } },
    });
    const client = await anonymousSocket(app, '203.0.113.10');
    let reconnectToken = (await client.next('authenticated')).reconnectToken!;
    for (let refresh = 0; refresh < 2; refresh += 1) {
      const refreshed = await client.request({ type: 'refresh', reconnectToken });
      expect(refreshed.type).toBe('refreshed');
      reconnectToken = (refreshed as { reconnectToken: string }).reconnectToken;
    }
    const refused = await client.request({ type: 'refresh', reconnectToken });
    expect(refused).toMatchObject({
      type: 'error',
      code: 'rate_limited',
      details: { retryAfterSeconds: expect.any(Number) },
    });
    const wait = (refused as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds;
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(WINDOW);
    expect((await client.request({ type: 'ping' })).type).toBe('pong');

    // The refused refresh spent nothing: the same token refreshes once the window is over.
    server.clock.advance(WINDOW * SECOND);
    expect((await client.request({ type: 'refresh', reconnectToken })).type).toBe('refreshed');
    await client.close();
  });

  it('counts forged access tokens at the upgrade as guesses; past the limit even a real token from that address waits', async () => {
    const app = await createApp(server, {
      rateLimits: { failedCredentials: { perAddress: 2, perApp: 100, window: WINDOW } },
    });
    // A registered user's: an anonymous one would end with its last connection.
    const genuine = (await signUpAndLogInTo(server, app)).login.accessToken;
    const forged = `${genuine.slice(0, -4)}AAAA`;
    for (let failure = 0; failure < 2; failure += 1)
      expect((await (await socketFrom(app, '198.51.100.1', forged)).waitClosed()).error).toBe('invalid_token');
    expect((await (await socketFrom(app, '198.51.100.1', forged)).waitClosed()).code).toBe(RATE_LIMITED_CLOSE);
    expect((await (await socketFrom(app, '198.51.100.1', genuine)).waitClosed()).code).toBe(RATE_LIMITED_CLOSE);

    // A forged token in a refresh frame is a guess too, and the REST count is the same one.
    const other = await socketFrom(app, '198.51.100.2', genuine);
    await other.next('authenticated');
    expect(await other.request({ type: 'refresh', accessToken: forged })).toMatchObject({
      type: 'error',
      code: 'invalid_token',
    });
    expect((await server.api('GET', `${app.path}/me`, { token: forged, headers: from('198.51.100.2') })).status).toBe(
      401,
    );
    expect(await other.request({ type: 'refresh', accessToken: forged })).toMatchObject({
      type: 'error',
      code: 'rate_limited',
    });
    await other.close();

    server.clock.advance(WINDOW * SECOND);
    const later = await socketFrom(app, '198.51.100.1', genuine);
    await later.next('authenticated');
    await later.close();
  });
});
