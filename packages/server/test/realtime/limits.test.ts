import type { PresenceLeaveFrame, PresenceStateFrame } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, logInTo, signUpAndLogInTo } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import {
  connect,
  connectWithToken,
  EVENT_TIMEOUT_MS,
  realtimeUrl,
  refusedUpgrade,
  withTimeout,
  type TestClient,
} from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD } from '../helpers/users.js';

const LIMITS = { maxFrameBytes: 2048, framesPerSecond: 1, frameBurst: 20_000, maxBufferedBytes: 16_384 };

describe.each(backends)('realtime limits on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { realtime: { ...LIMITS } });
  });
  afterAll(() => server.close());

  it('closes with frame_too_large (do not reconnect) on a frame over maxFrameBytes', async () => {
    const client = await connect(server);
    client.send({ type: 'ping', id: 'x'.repeat(50), padding: 'y'.repeat(LIMITS.maxFrameBytes) });
    expect(await client.waitClosed()).toMatchObject({ code: 4161, error: 'frame_too_large' });
  });

  it('closes with rate_limited when a connection sends more frames than its bucket holds', async () => {
    const client = await connect(server);
    // The ManualClock stands still: the bucket never refills, so burst + 1 frames is one too many.
    for (let frame = 0; frame <= LIMITS.frameBurst; frame += 1) client.send({ type: 'ping' });
    expect(await client.waitClosed()).toMatchObject({ code: 4008, error: 'rate_limited' });
    expect(client.frames.filter((frame) => frame.type === 'pong')).toHaveLength(LIMITS.frameBurst);
  });

  it("refuses a user's connection over the app's maxConnectionsPerUser, and ends the session it would have started", async () => {
    const app = await createApp(server, { realtime: { maxConnectionsPerUser: 2 } });
    const { login, email } = await signUpAndLogInTo(server, app);
    const open = [
      await connectWithToken(server, login.accessToken, app),
      await connectWithToken(server, login.accessToken, app),
    ];

    const byToken = await connect(server, { app, token: login.accessToken });
    expect(await byToken.waitClosed()).toMatchObject({ code: 4160, error: 'too_many_connections' });
    // Refused before its reconnect token is spent: the token still works afterwards.
    const byReconnect = await connect(server, { app, key: app.publishableKey });
    byReconnect.send({ type: 'authenticate', strategy: 'reconnect', token: login.reconnectToken });
    expect(await byReconnect.waitClosed()).toMatchObject({ error: 'too_many_connections' });
    const byPassword = await connect(server, { app, key: app.publishableKey });
    byPassword.send({ type: 'authenticate', strategy: 'local', email, password: PASSWORD });
    expect(await byPassword.waitClosed()).toMatchObject({ error: 'too_many_connections' });
    await server.tessera.realtime.settled();
    const sessions = await server.api<{ items: unknown[] }>('GET', `${app.path}/me/sessions`, {
      token: login.accessToken,
    });
    expect(sessions.body.items).toHaveLength(1);

    await open[0]!.close();
    await open[1]!.close();
    const resumed = await logInTo(server, app, { strategy: 'reconnect', token: login.reconnectToken });
    expect(resumed.session.id).toBe(login.session.id);
  });

  it('closes a consumer that does not read with slow_consumer instead of buffering without bound', async () => {
    const app = await createApp(server);
    // Presence answers grow with the users online; long names make each one some kilobytes.
    const others = await Promise.all(
      Array.from(
        { length: 20 },
        async (_unused, index) =>
          (await signUpAndLogInTo(server, app, { fullName: `${index} ${'n'.repeat(120)}` })).login,
      ),
    );
    const online = await Promise.all(others.map((login) => connectWithToken(server, login.accessToken, app)));
    const watcher = await signUpAndLogInTo(server, app);
    const watching = await connectWithToken(server, watcher.login.accessToken, app);
    await watching.request<PresenceStateFrame>({ type: 'presence.subscribe' });

    const slow = await signUpAndLogInTo(server, app);
    const reader = await connectWithToken(server, slow.login.accessToken, app);
    reader.ws.pause();
    const left = watching.find<PresenceLeaveFrame>(
      (frame) => frame.type === 'presence.leave' && frame.sessionId === slow.login.session.id,
    );
    let closedByServer = false;
    void left.then(() => (closedByServer = true));
    for (let batch = 0; batch < 40 && !closedByServer; batch += 1) {
      for (let frame = 0; frame < 250; frame += 1) reader.send({ type: 'presence.query' });
      // Each batch waits for the server to answer the watcher, so that the reader's queries were read.
      await watching.request({ type: 'ping' });
    }
    await withTimeout(left, EVENT_TIMEOUT_MS, 'the slow consumer to be dropped');
    reader.ws.resume();
    expect(await reader.waitClosed(20_000)).toMatchObject({ code: 4018, error: 'slow_consumer' });
    await Promise.all([...online, watching].map((client) => client.close()));
  });
});

describe.each(backends)('realtime node limit, heartbeat and shutdown on $name', (backend) => {
  const maxConnections = 5;
  const HEARTBEAT_MS = 1000;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, {
      realtime: { heartbeatIntervalMs: HEARTBEAT_MS, shutdownGraceMs: 2000, maxConnections },
    });
  });
  afterAll(() => server.close());

  it('refuses upgrades past the node-wide maxConnections with 503 overloaded', async () => {
    const clients = await Promise.all(Array.from({ length: maxConnections }, () => connect(server)));
    expect(await refusedUpgrade(realtimeUrl(server))).toMatchObject({
      status: 503,
      body: { error: { code: 'overloaded' } },
    });
    await Promise.all(clients.map((client) => client.close()));
  });

  /**
   * Resolves once the server has read the pong `client` sent to its last heartbeat: the client's
   * own ping goes after that pong on the same connection, and the server answers it in order.
   */
  function pongRead(client: TestClient): Promise<void> {
    const answered = new Promise<void>((resolve) => client.ws.once('pong', () => resolve()));
    client.ws.ping();
    return withTimeout(answered, EVENT_TIMEOUT_MS, "the server's answer to the client's ping");
  }

  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    // Issue 12: the heartbeats run when the test moves the server's real time, one at a time; a
    // 20 ms interval of real timers dropped the live peer too on a busy machine.
    const dead = await connect(server, { autoPong: false });
    const live = await connect(server);
    for (let beat = 1; beat <= 5; beat += 1) {
      const pinged = new Promise<void>((resolve) => live.ws.once('ping', () => resolve()));
      server.realTime.advance(HEARTBEAT_MS);
      await withTimeout(pinged, EVENT_TIMEOUT_MS, `heartbeat ${beat}`);
      await pongRead(live);
      // The second heartbeat finds the first one unanswered. A dropped peer gets no close frame:
      // the TCP connection just ends (1006 at the client).
      if (beat === 2) expect(await dead.waitClosed()).toMatchObject({ code: 1006 });
      else expect(dead.isOpen).toBe(beat < 2);
    }
    expect(await live.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await live.close();
  });

  it('closes every socket with server_shutdown (reconnect allowed) when Tessera closes, and does not end anonymous users', async () => {
    const app = await createApp(server, { strategies: { anonymous: { enabled: true } } });
    const { login } = await signUpAndLogInTo(server, app);
    const registered = await connectWithToken(server, login.accessToken, app);
    const anonymous = await connect(server, { app, key: app.publishableKey });
    const authenticated = await anonymous.request({ type: 'authenticate', strategy: 'anonymous' });
    const anonymousUserId = (authenticated as { user: { id: string } }).user.id;
    const unauthenticated = await connect(server);
    const appRecord = await server.tessera.services.apps.getApp(app.namespace, app.name);

    let anonymousAfterShutdown: { endedAt: number | null } | undefined;
    const closing = server.tessera.realtime.close().then(async () => {
      anonymousAfterShutdown = await server.tessera.services.users.get(appRecord, anonymousUserId);
    });
    for (const client of [registered, anonymous, unauthenticated])
      expect(await client.waitClosed()).toMatchObject({ code: 4017, error: 'server_shutdown' });
    await closing;
    expect(anonymousAfterShutdown?.endedAt).toBeNull();
    expect(await refusedUpgrade(realtimeUrl(server))).toMatchObject({
      status: 503,
      body: { error: { code: 'server_shutdown' } },
    });
  });
});
