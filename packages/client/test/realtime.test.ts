import type { PresenceJoinFrame, PresenceLeaveFrame, PresenceStateFrame, ServerFrame } from '@tessera/protocol';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, type Backend } from '../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import {
  systemClock,
  type Clock,
  type RealtimeCloseEvent,
  type SessionEndedEvent,
  type TesseraClient,
} from '../src/index.js';
import {
  createApp,
  makeClient,
  nextEvent,
  PASSWORD,
  patchSettings,
  demoApp,
  recordingFetch,
  signUpAndConnect,
  uniqueEmail,
} from './helpers.js';

const MINUTE = 60_000;

type PresenceFrame = PresenceStateFrame | PresenceJoinFrame | PresenceLeaveFrame;

const closeOf = (client: TesseraClient, match: (event: RealtimeCloseEvent) => boolean = () => true) =>
  nextEvent<RealtimeCloseEvent>((listener) => client.realtime.on('close', listener), match, 'a realtime close');
const openOf = (client: TesseraClient) =>
  nextEvent<{ connectionId: string; session: { id: string }; user: { id: string } }>(
    (listener) => client.realtime.on('open', listener),
    () => true,
    'a realtime open',
  );

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe.each(backends)('the realtime connection on $name', (backend: Backend) => {
  let server: TestServer;
  const clients: TesseraClient[] = [];
  const track = (client: TesseraClient) => (clients.push(client), client);
  beforeAll(async () => {
    server = await startTestServer(backend);
    await patchSettings(server, demoApp(server), { strategies: { anonymous: { enabled: true } } });
  });
  afterAll(async () => {
    for (const client of clients) client.dispose();
    await server.close();
  });

  it('authenticates in band, rotating the tokens under the lock, and answers requests', async () => {
    const recorder = recordingFetch();
    const client = track(makeClient(server, { fetch: recorder.fetch }));
    await signUpAndConnect(client);
    const before = await client.reAuthenticate();
    const opened = openOf(client);
    await client.realtime.connect();
    expect(client.realtime.state).toBe('open');
    const open = await opened;
    expect(open).toMatchObject({
      session: { id: before.session.id },
      user: { id: before.user.id },
      connectionId: expect.any(String),
    });
    const after = await client.reAuthenticate();
    expect(after.session.id).toBe(before.session.id);
    expect(after.reconnectToken).not.toBe(before.reconnectToken);
    expect(recorder.spent()).toBe(0);
    expect(await client.realtime.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    const presence = await client.realtime.queryPresence([before.user.id]);
    expect(presence.users).toEqual([expect.objectContaining({ userId: before.user.id, connections: 1 })]);
    // A refused frame rejects its request with the registry's code; the connection stays.
    const tooMany = Array.from({ length: 101 }, (_, index) => `user-${index}`);
    await expect(client.realtime.queryPresence(tooMany)).rejects.toMatchObject({
      code: 'invalid_request',
      name: 'InvalidRequestError',
    });
    expect(client.realtime.state).toBe('open');
    client.realtime.close();
    expect(client.realtime.state).toBe('closed');
  });

  it('refreshes in band ahead of expiry: the socket outlives its first access token', async () => {
    const recorder = recordingFetch();
    const client = track(makeClient(server, { fetch: recorder.fetch }));
    await signUpAndConnect(client);
    await client.realtime.connect();
    const { authentication } = await client.reAuthenticate();
    const closes: RealtimeCloseEvent[] = [];
    client.realtime.on('close', (event) => closes.push(event));
    const refreshedInBand = nextEvent<ServerFrame>(
      (listener) => client.realtime.on('frame', listener),
      (frame) => frame.type === 'refreshed',
      'a refreshed frame',
    );
    server.clock.advance(Date.parse(authentication.accessTokenExpiresAt) - 59_000 - server.clock.now());
    await refreshedInBand;
    expect(recorder.spent()).toBe(1);
    server.clock.advance(5 * MINUTE);
    expect(await client.realtime.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    expect(closes).toEqual([]);
    expect(client.realtime.state).toBe('open');
  });

  it('after a token_expired close (a device clock that stood still) refreshes, then reconnects in the same session', async () => {
    const start = server.clock.now();
    // Time stands still for this client: only deadlines already due run (the reconnect after 0 ms).
    const stopped: Clock = {
      now: () => start,
      at: (time, task) => (time <= start ? (setImmediate(task), () => undefined) : () => undefined),
    };
    const recorder = recordingFetch();
    const client = track(makeClient(server, { clock: stopped, fetch: recorder.fetch }));
    await signUpAndConnect(client);
    await client.realtime.connect();
    const sessionId = (await client.reAuthenticate()).session.id;
    const closed = closeOf(client);
    const reopened = openOf(client);
    server.clock.advance(16 * MINUTE);
    expect(await closed).toMatchObject({ reason: 'token_expired', closeCode: 4000, willReconnect: true });
    expect((await reopened).session.id).toBe(sessionId);
    expect(recorder.spent()).toBe(1);
  });

  it('stops on do-not-reconnect codes and says why: revoked elsewhere', async () => {
    const client = track(makeClient(server));
    const email = await signUpAndConnect(client);
    await client.realtime.connect();
    const sessionId = (await client.reAuthenticate()).session.id;
    const closed = closeOf(client);
    const ended = nextEvent<SessionEndedEvent>((listener) => client.on('sessionEnded', listener));
    const laptop = track(makeClient(server));
    await laptop.connect(email, PASSWORD);
    await laptop.sessions.revoke(sessionId);
    expect(await closed).toEqual({
      reason: 'revoked',
      closeCode: 4115,
      code: 'session_revoked',
      detail: 'revoked',
      willReconnect: false,
    });
    expect(await ended).toMatchObject({ reason: 'revoked', sessionId, detail: 'revoked' });
    expect(client.realtime.state).toBe('suspended');
    expect(await client.getLoggedInUser()).toBeNull();
  });

  it('connecting with a session revoked while the client was away rejects with the code, and ends the session', async () => {
    const client = track(makeClient(server));
    const email = await signUpAndConnect(client);
    const sessionId = (await client.reAuthenticate()).session.id;
    const laptop = track(makeClient(server));
    await laptop.connect(email, PASSWORD);
    await laptop.sessions.revoke(sessionId);
    const ended = nextEvent<SessionEndedEvent>((listener) => client.on('sessionEnded', listener));
    await expect(client.realtime.connect()).rejects.toMatchObject({ code: 'session_revoked' });
    expect(await ended).toMatchObject({ reason: 'revoked', sessionId });
    expect(client.realtime.state).toBe('suspended');
  });

  it('says disabled when the user is disabled', async () => {
    const client = track(makeClient(server));
    await signUpAndConnect(client);
    await client.realtime.connect();
    const user = await client.fetchUser();
    const closed = closeOf(client);
    await server.api('PATCH', `/v1/apps/demo/chat/users/${user.id}`, {
      key: server.secretKey,
      body: { disabled: true },
    });
    expect(await closed).toMatchObject({ reason: 'disabled', closeCode: 4116, willReconnect: false });
  });

  it('says logged_out on logout, without calling the session-expired handler, and reconnects after the next login', async () => {
    const client = track(makeClient(server));
    const email = await signUpAndConnect(client);
    let handlerCalls = 0;
    client.onSessionExpired(({ fail }) => {
      handlerCalls += 1;
      fail();
    });
    await client.realtime.connect();
    const closed = closeOf(client);
    await client.logout();
    expect(await closed).toMatchObject({ reason: 'logged_out', willReconnect: false });
    expect(client.realtime.state).toBe('suspended');
    const reopened = openOf(client);
    await client.connect(email, PASSWORD);
    expect((await reopened).user.id).toBe((await client.getLoggedInUser())!.id);
    expect(handlerCalls).toBe(0);
  });

  it('on an expired session asks the handler, and retry() reconnects in the new session', async () => {
    const app = await createApp(server, { sessionLifetime: 300 });
    const client = track(makeClient(server, { app }));
    const email = uniqueEmail('short');
    await client.signup({ email, password: PASSWORD });
    await client.connect(email, PASSWORD);
    await client.realtime.connect();
    const first = (await client.reAuthenticate()).session.id;
    const reasons: string[] = [];
    client.onSessionExpired(async ({ reason, retry }) => {
      reasons.push(reason);
      await client.connect(email, PASSWORD);
      retry();
    });
    const closed = closeOf(client);
    const reopened = openOf(client);
    server.clock.advance(6 * MINUTE);
    expect(await closed).toMatchObject({ reason: 'expired', code: 'session_expired', willReconnect: false });
    const open = await reopened;
    expect(open.session.id).not.toBe(first);
    expect(reasons).toEqual(['expired']);
    expect(client.realtime.state).toBe('open');
  });

  it('moves to the new session of an anonymous user upgraded while connected', async () => {
    const client = track(makeClient(server));
    const anonymous = await client.connectAnonymously('Visitor');
    await client.realtime.connect();
    const ended: SessionEndedEvent[] = [];
    client.on('sessionEnded', (event) => ended.push(event));
    const reopened = openOf(client);
    const upgraded = await client.upgradeAnonymous({ email: uniqueEmail('upgraded'), password: PASSWORD });
    const open = await reopened;
    expect(open.session.id).toBe(upgraded.session.id);
    expect(open.user.id).toBe(anonymous.user.id);
    expect(ended).toEqual([]);
    expect(await client.fetchUser()).toMatchObject({ kind: 'registered' });
  });

  it('reconnects as the new user when another user logs in on the client', async () => {
    const client = track(makeClient(server));
    await signUpAndConnect(client);
    await client.realtime.connect();
    const reopened = openOf(client);
    const other = await signUpAndConnect(track(makeClient(server)));
    const login = await client.connect(other, PASSWORD);
    expect((await reopened).user.id).toBe(login.user.id);
  });

  it('gives up with rejected on too_many_connections, and connect() rejects with the code', async () => {
    const app = await createApp(server, { realtime: { maxConnectionsPerUser: 1 } });
    const phone = track(makeClient(server, { app }));
    const email = uniqueEmail('many');
    await phone.signup({ email, password: PASSWORD });
    await phone.connect(email, PASSWORD);
    await phone.realtime.connect();
    const laptop = track(makeClient(server, { app }));
    await laptop.connect(email, PASSWORD);
    const closed = closeOf(laptop);
    await expect(laptop.realtime.connect()).rejects.toMatchObject({ code: 'too_many_connections' });
    expect(await closed).toMatchObject({
      reason: 'rejected',
      code: 'too_many_connections',
      closeCode: 4160,
      willReconnect: false,
    });
    expect(laptop.realtime.state).toBe('closed');
    // The refused connection spent nothing: the laptop's session still works.
    expect(await laptop.fetchUser()).toMatchObject({ email });
  });

  it('follows presence: a subscription sees another user join and leave', async () => {
    const watcher = track(makeClient(server));
    await signUpAndConnect(watcher);
    await watcher.realtime.connect();
    const snapshot = await watcher.realtime.subscribePresence();
    expect(snapshot.type).toBe('presence.state');
    const visitor = track(makeClient(server));
    await signUpAndConnect(visitor);
    const visitorId = (await visitor.getLoggedInUser())!.id;
    const joined = nextEvent<PresenceFrame>(
      (listener) => watcher.realtime.on('presence', listener),
      (frame) => frame.type === 'presence.join' && frame.entry.userId === visitorId,
      'a join',
    );
    await visitor.realtime.connect();
    await joined;
    const left = nextEvent<PresenceFrame>(
      (listener) => watcher.realtime.on('presence', listener),
      (frame) => frame.type === 'presence.leave' && frame.userId === visitorId,
      'a leave',
    );
    visitor.realtime.close();
    await left;
  });

  it('needs a WebSocket class and a session', async () => {
    // Node.js 20 has no global WebSocket (22 has): without the ws package there is none to use.
    if (!('WebSocket' in globalThis)) {
      const noWs = track(makeClient(server, { WebSocket: undefined }));
      await expect(noWs.realtime.connect()).rejects.toThrow(TypeError);
    }
    const nobody = track(makeClient(server));
    await expect(nobody.realtime.connect()).rejects.toMatchObject({ code: 'missing_credentials' });
    expect(nobody.realtime.state).toBe('suspended');
    const reopened = openOf(nobody);
    await signUpAndConnect(nobody);
    await reopened;
  });
});

describe.each(backends)('reconnecting on $name', (backend: Backend) => {
  it('reconnects in the same session after a server restart (close 4017 server_shutdown)', async () => {
    const port = await freePort();
    let server = await startTestServer(backend, { port });
    const client = makeClient(server, {
      clock: systemClock,
      realtime: { initialDelayMs: 20, maxDelayMs: 200, pingIntervalMs: 0 },
    });
    try {
      await signUpAndConnect(client);
      await client.realtime.connect();
      const sessionId = (await client.reAuthenticate()).session.id;
      const restarted = closeOf(client);
      const reopened = openOf(client);
      server = await server.restart();
      expect(await restarted).toMatchObject({
        reason: 'server_restart',
        code: 'server_shutdown',
        closeCode: 4017,
        willReconnect: true,
      });
      expect((await reopened).session.id).toBe(sessionId);
    } finally {
      client.dispose();
      await server.close();
    }
  });

  it('waits random × min(max, initial × 2^attempt) between attempts, and gives up after maxAttempts', async () => {
    const server = await startTestServer(backend);
    const client = makeClient(server, {
      realtime: { random: () => 1, initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 6 },
    });
    await signUpAndConnect(client);
    await client.realtime.connect();
    const delays: number[] = [];
    let settle: () => void;
    const gaveUp = new Promise<void>((resolve) => (settle = resolve));
    client.realtime.on('close', (event) => {
      if (!event.willReconnect) return settle();
      delays.push(event.delayMs!);
      // Each wait passes on the manual clock; the attempt then fails at once (nobody listens).
      setImmediate(() => server.clock.advance(event.delayMs!));
    });
    await server.close();
    await gaveUp;
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(client.realtime.state).toBe('closed');
    client.dispose();
  });
});
