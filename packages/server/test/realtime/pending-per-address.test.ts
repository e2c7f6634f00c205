import { request } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoApp, signUpAndLogInTo } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import {
  connect,
  connectWithToken,
  EVENT_TIMEOUT_MS,
  realtimeUrl,
  refusedUpgrade,
  type TestClient,
} from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Unauthenticated sockets one address may hold; every test runs from 127.0.0.1. */
const LIMIT = 3;

/** Waits for the server to have handled a close it learns of after the client does; ends when it has. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function openPending(server: TestServer, count: number, headers: Record<string, string> = {}): Promise<TestClient[]> {
  return Promise.all(Array.from({ length: count }, () => connect(server, { key: server.publishableKey, headers })));
}

async function closeAll(clients: TestClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()));
}

/** An upgrade without Sec-WebSocket-Key: ws answers 400 itself, after the gateway counted the socket. */
function malformedUpgrade(server: TestServer): Promise<number> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const upgrade = request({
      hostname,
      port,
      path: '/v1/apps/demo/chat/realtime',
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13' },
    });
    upgrade.once('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    upgrade.once('upgrade', () => reject(new Error('the upgrade was accepted')));
    upgrade.once('error', reject);
    upgrade.end();
  });
}

/**
 * An upgrade of an unknown app on a raw TCP connection that stays open on the client's side
 * after the 404, as a client that never closes would keep it.
 */
function refusedHalfOpen(server: TestServer): Promise<Socket> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: hostname, port: Number(port), allowHalfOpen: true }, () => {
      socket.write(
        `GET /v1/apps/demo/nope/realtime HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
    });
    socket.once('data', (data: Buffer) =>
      data.toString().startsWith('HTTP/1.1 404') ? resolve(socket) : reject(new Error(data.toString())),
    );
    socket.once('error', reject);
  });
}

describe.each(backends)('unauthenticated realtime sockets per client address on $name', (backend) => {
  let server: TestServer;
  /** Trusts X-Forwarded-For, as behind a load balancer. */
  let proxied: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { realtime: { maxPendingPerIp: LIMIT } });
    proxied = await startTestServer(backend, { realtime: { maxPendingPerIp: LIMIT }, trustProxy: true });
  });
  afterAll(() => Promise.all([server.close(), proxied.close()]));
  // Whatever a test did, no socket stays counted once its clients are gone.
  afterEach(() =>
    until(
      () => server.tessera.realtime.unauthenticated === 0 && proxied.tessera.realtime.unauthenticated === 0,
      'the count to return to zero',
    ),
  );

  it('refuses the upgrade past the limit with 429 rate_limited and Retry-After; a socket that authenticates frees its place', async () => {
    const { login } = await signUpAndLogInTo(server, demoApp(server));
    const pending = await openPending(server, LIMIT);
    expect(server.tessera.realtime.unauthenticated).toBe(LIMIT);

    const refused = await refusedUpgrade(realtimeUrl(server));
    expect(refused).toMatchObject({
      status: 429,
      body: {
        error: {
          code: 'rate_limited',
          status: 429,
          message: `This address already has ${LIMIT} realtime connections that have not authenticated; authenticate or close one before opening another.`,
        },
      },
    });
    // The authentication timeout (10 s): by then every socket pending now is gone or authenticated.
    expect(refused.headers['retry-after']).toBe('10');

    expect(
      await pending[0]!.request({ type: 'authenticate', strategy: 'access-token', accessToken: login.accessToken }),
    ).toMatchObject({ type: 'authenticated' });
    const next = await connect(server);
    expect(await refusedUpgrade(realtimeUrl(server))).toMatchObject({ status: 429 });
    // The authenticated socket is not held back by its neighbours.
    expect(await pending[0]!.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    // Its close gives nothing back a second time: the address still holds its three pending sockets.
    await pending[0]!.close();
    expect(await refusedUpgrade(realtimeUrl(server))).toMatchObject({ status: 429 });
    await closeAll([...pending, next]);
  });

  it("does not count authenticated sockets: an address's users stay connected while it is at its limit", async () => {
    const { login } = await signUpAndLogInTo(server, demoApp(server));
    const authenticated: TestClient[] = [];
    for (let index = 0; index < LIMIT; index += 1)
      authenticated.push(await connectWithToken(server, login.accessToken));
    const pending = await openPending(server, LIMIT);
    expect(await refusedUpgrade(realtimeUrl(server))).toMatchObject({
      status: 429,
      body: { error: { code: 'rate_limited' } },
    });
    for (const client of authenticated) expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await closeAll([...authenticated, ...pending]);
  });

  it('gives the place back however a pending socket ends, so the address can open its full quota again', async () => {
    const { email } = await signUpAndLogInTo(server, demoApp(server));

    const closedByClient = await openPending(server, LIMIT);
    await closeAll(closedByClient);
    await until(() => server.tessera.realtime.unauthenticated === 0, 'closes by the client');

    const dropped = await openPending(server, LIMIT);
    for (const client of dropped) client.ws.terminate();
    await until(() => server.tessera.realtime.unauthenticated === 0, 'dropped TCP connections');

    const timedOut = await openPending(server, LIMIT);
    server.clock.advance(10_000);
    for (const client of timedOut) expect(await client.waitClosed()).toMatchObject({ error: 'authentication_timeout' });

    const wrongPassword = await openPending(server, LIMIT);
    for (const client of wrongPassword)
      client.send({ type: 'authenticate', strategy: 'local', email, password: 'not the password' });
    for (const client of wrongPassword)
      expect(await client.waitClosed()).toMatchObject({ error: 'invalid_credentials' });

    const tooLarge = await openPending(server, LIMIT);
    for (const client of tooLarge) client.send({ type: 'ping', padding: 'x'.repeat(70_000) });
    for (const client of tooLarge) expect(await client.waitClosed()).toMatchObject({ error: 'frame_too_large' });
    // ws closes these itself; the server forgets them when their sockets end.
    await until(() => server.tessera.realtime.unauthenticated === 0, 'sockets ws closed');

    // Counted, then refused at the upgrade: by Tessera, and by ws itself.
    for (let index = 0; index <= LIMIT; index += 1) {
      expect(await refusedUpgrade(realtimeUrl(server).replace('/demo/chat/', '/demo/nope/'))).toMatchObject({
        status: 404,
        body: { error: { code: 'app_not_found' } },
      });
      expect(await refusedUpgrade(realtimeUrl(server), { origin: 'https://elsewhere.example' })).toMatchObject({
        status: 403,
        body: { error: { code: 'origin_not_allowed' } },
      });
      expect(await malformedUpgrade(server)).toBe(400);
    }

    await until(() => server.tessera.realtime.unauthenticated === 0, 'every pending socket to be forgotten');
    const quota = await openPending(server, LIMIT);
    expect(await refusedUpgrade(realtimeUrl(server))).toMatchObject({ status: 429 });
    await closeAll(quota);
  });

  it('forgets a socket the moment the server refuses or closes it, while its client still holds the TCP connection', async () => {
    const halfOpen = await refusedHalfOpen(server);
    expect(server.tessera.realtime.unauthenticated).toBe(0);
    halfOpen.destroy();

    // A paused client reads nothing: it never answers the server's close, and ws waits 30 s for that answer.
    const silent = await openPending(server, LIMIT);
    for (const client of silent) client.ws.pause();
    server.clock.advance(10_000);
    await until(() => server.tessera.realtime.unauthenticated === 0, 'timed-out sockets to be forgotten');
    const quota = await openPending(server, LIMIT);
    for (const client of silent) client.ws.terminate();
    await closeAll(quota);
  });

  it('with trustProxy, counts each X-Forwarded-For client apart, and ::ffff:a.b.c.d as a.b.c.d', async () => {
    const first = await openPending(proxied, LIMIT, { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' });
    for (const forwarded of ['203.0.113.7', '::ffff:203.0.113.7', '::FFFF:203.0.113.7, 10.0.0.2']) {
      expect(await refusedUpgrade(realtimeUrl(proxied), { 'x-forwarded-for': forwarded }), forwarded).toMatchObject({
        status: 429,
        body: { error: { code: 'rate_limited' } },
      });
    }
    const second = await openPending(proxied, LIMIT, { 'x-forwarded-for': '198.51.100.9' });
    // Without the header, the socket's own address (127.0.0.1) has a quota of its own too.
    const direct = await openPending(proxied, LIMIT);
    expect(proxied.tessera.realtime.unauthenticated).toBe(3 * LIMIT);
    await closeAll([...first, ...second, ...direct]);
  });

  it('with trustedProxies, counts the address the proxy saw: what a client writes before it gets no quota of its own', async () => {
    // 127.0.0.1 plays the proxy, which appends the address it saw (203.0.113.7) to what the client sent.
    const behindProxy = await startTestServer(backend, {
      realtime: { maxPendingPerIp: LIMIT },
      trustedProxies: 'loopback',
    });
    try {
      const pending = await openPending(behindProxy, LIMIT, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' });
      expect(
        await refusedUpgrade(realtimeUrl(behindProxy), { 'x-forwarded-for': '198.51.100.2, 203.0.113.7' }),
      ).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
      const another = await openPending(behindProxy, 1, { 'x-forwarded-for': '198.51.100.1, 203.0.113.8' });
      await closeAll([...pending, ...another]);
      await until(() => behindProxy.tessera.realtime.unauthenticated === 0, 'the count to return to zero');
    } finally {
      await behindProxy.close();
    }
  });

  it('without trustProxy, ignores X-Forwarded-For: a forged address gets no quota of its own', async () => {
    const pending = await openPending(server, LIMIT, { 'x-forwarded-for': '203.0.113.7' });
    expect(await refusedUpgrade(realtimeUrl(server), { 'x-forwarded-for': '198.51.100.9' })).toMatchObject({
      status: 429,
    });
    await closeAll(pending);
  });

  it('forgets every pending socket when the server shuts down', async () => {
    const pending = await openPending(server, LIMIT);
    const closing = server.tessera.realtime.close();
    for (const client of pending) expect(await client.waitClosed()).toMatchObject({ error: 'server_shutdown' });
    await closing;
    expect(server.tessera.realtime.unauthenticated).toBe(0);
  });
});
