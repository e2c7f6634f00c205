import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { User } from '@tessera/protocol';
import { Server } from 'socket.io';
import { io as connectTo } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ManualClock } from '../../../server/src/lib/clock.js';
import { createApp, logInTo, type TestApp } from '../../../server/test/helpers/apps.js';
import { backends } from '../../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../../server/test/helpers/server.js';
import { PASSWORD, uniqueEmail } from '../../../server/test/helpers/users.js';
import { createVerifier, type Verifier } from '../../src/index.js';
import { SESSION_ENDED_EVENT, tesseraSocketIo, type SessionEnded } from '../../src/integrations/socket.io.js';
import { tesseraUpgrade } from '../../src/integrations/ws.js';
import { within } from './fixture.js';

async function listening(http: HttpServer): Promise<number> {
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return (http.address() as AddressInfo).port;
}

// issue 15 items 2 and 4, end to end: a real logout (and a real disabling) on Tessera reaches the
// verifier through Tessera's revocation feed, and the app's own sockets close.
describe("the integrations with Tessera's real revocation feed", () => {
  let server: TestServer;
  let app: TestApp;
  let verifier: Verifier;
  let wsUrl: string;
  let ioUrl: string;
  const closers: (() => Promise<void> | void)[] = [];

  const newUser = async (): Promise<User> => {
    const created = await server.api<User>('POST', `${app.path}/users`, {
      key: app.secretKey,
      body: { email: uniqueEmail('feed-e2e'), password: PASSWORD },
    });
    expect(created.status).toBe(201);
    return created.body;
  };
  const logIn = (user: User) => logInTo(server, app, { strategy: 'local', email: user.email, password: PASSWORD });

  beforeAll(async () => {
    server = await startTestServer(backends[0]!);
    app = await createApp(server);
    verifier = createVerifier({
      url: server.url,
      app: `${app.namespace}/${app.name}`,
      secretKey: app.secretKey,
      now: () => server.clock.now(),
      // The feed's timers move only with this clock: nothing here waits on them.
      feed: { timeline: new ManualClock(0) },
    });
    await within(verifier.ready(), 'the feed to be live');

    const wss = new WebSocketServer({ noServer: true });
    const upgrade = tesseraUpgrade(verifier, wss);
    const wsHttp = createServer().on('upgrade', upgrade);
    wsUrl = `ws://127.0.0.1:${await listening(wsHttp)}`;
    const ioHttp = createServer();
    const io = new Server(ioHttp);
    const middleware = tesseraSocketIo(verifier);
    io.use(middleware);
    ioUrl = `http://127.0.0.1:${await listening(ioHttp)}`;
    closers.push(
      () => {
        upgrade.close();
        for (const client of wss.clients) client.terminate();
        wss.close();
        wsHttp.closeAllConnections();
        return new Promise((resolve) => wsHttp.close(() => resolve()));
      },
      async () => {
        middleware.close();
        await io.close();
      },
    );
  });
  afterAll(async () => {
    for (const close of closers) await close();
    verifier?.close();
    await server?.close();
  });

  it('closes a ws socket with 4115 when its session logs out on Tessera, and refuses its token from then on', async () => {
    const user = await newUser();
    const login = await logIn(user);
    const other = await logIn(user);
    const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${login.accessToken}` } });
    const bystander = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${other.accessToken}` } });
    await within(Promise.all([once(socket, 'open'), once(bystander, 'open')]), 'the sockets to open');
    const closed = within(once(socket, 'close'), 'the close');

    const logout = await server.api('DELETE', `${app.path}/authentication`, { token: login.accessToken });
    expect(logout.status).toBe(200);
    const [code, reason] = (await closed) as [number, Buffer];
    expect({ code, reason: reason.toString() }).toEqual({ code: 4115, reason: 'session_revoked' });
    expect(bystander.readyState).toBe(WebSocket.OPEN);
    await expect(verifier.verify(login.accessToken)).rejects.toMatchObject({ code: 'session_revoked' });
    bystander.close();
    await within(once(bystander, 'close'), 'the bystander to close');
  });

  it('tells a Socket.io socket its session ended and disconnects it when the user is disabled on Tessera', async () => {
    const user = await newUser();
    const login = await logIn(user);
    const socket = connectTo(ioUrl, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: login.accessToken },
    });
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      }),
      'the connection',
    );
    const ended = within(
      new Promise<{ ended: SessionEnded; reason: string }>((resolve) =>
        socket.once(SESSION_ENDED_EVENT, (end: SessionEnded) =>
          socket.once('disconnect', (reason) => resolve({ ended: end, reason })),
        ),
      ),
      'the session end',
    );
    const disabled = await server.api('PATCH', `${app.path}/users/${user.id}`, {
      key: app.secretKey,
      body: { disabled: true },
    });
    expect(disabled.status).toBe(200);
    const { ended: end, reason } = await ended;
    expect(end).toEqual({ code: 'user_disabled' });
    expect(reason).toBe('io server disconnect');
    socket.close();
  });
});
