import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthenticationResult, User } from '@tessera/protocol';
import { Server } from 'socket.io';
import { io as connectTo, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SESSION_ENDED_EVENT,
  tesseraSocketIo,
  userRoom,
  type ConnectRefusal,
  type SessionEnded,
  type TesseraSocketData,
} from '../../src/integrations/socket.io.js';
import { startFixture, within, type Fixture } from './fixture.js';

interface ServerEvents {
  hello: (principal: { userId: string; sessionId: string; roles: readonly string[] }) => void;
  notice: (text: string) => void;
  [SESSION_ENDED_EVENT]: (ended: SessionEnded) => void;
}
type ClientEvents = Record<string, never>;

/** A client that connects with `auth`, and the hello it receives, or its connect_error. */
function connect(
  url: string,
  options: { token?: unknown; authorization?: string } = {},
): { socket: ClientSocket; hello: Promise<Parameters<ServerEvents['hello']>[0]> } {
  const socket = connectTo(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: options.token === undefined ? {} : { token: options.token },
    ...(options.authorization === undefined ? {} : { extraHeaders: { authorization: options.authorization } }),
  });
  const hello = within(
    new Promise<Parameters<ServerEvents['hello']>[0]>((resolve, reject) => {
      socket.once('hello', resolve);
      socket.once('connect_error', reject);
    }),
    'the hello',
  );
  return { socket, hello };
}

async function refusalOf(url: string, options: { token?: unknown; authorization?: string }): Promise<ConnectRefusal> {
  const { socket, hello } = connect(url, options);
  const error = await hello.then(
    () => new Error('the connection was accepted'),
    (reason: unknown) => reason as Error & { data?: ConnectRefusal },
  );
  socket.close();
  expect(error).toHaveProperty('data');
  return (error as Error & { data: ConnectRefusal }).data;
}

// issue 15 item 4: an app's Socket.io server accepts Tessera's users and disconnects ended sessions.
describe('@tessera/verifier/socket.io against a real Tessera, socket.io and socket.io-client', () => {
  let fixture: Fixture;
  let io: Server<ClientEvents, ServerEvents, Record<string, never>, TesseraSocketData>;
  let url: string;
  let user: User;
  let login: AuthenticationResult;

  beforeAll(async () => {
    fixture = await startFixture();
    const http = createServer();
    io = new Server(http);
    io.use(tesseraSocketIo(fixture.verifier));
    io.on('connection', (socket) => {
      const { userId, sessionId, roles } = socket.data.principal;
      socket.emit('hello', { userId, sessionId, roles });
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    user = await fixture.newUser(['member']);
    login = await fixture.logIn(user);
  });
  afterAll(async () => {
    await io?.close();
    await fixture?.close();
  });

  it('connects a token from auth.token, and one from the Authorization header, with the principal in socket.data', async () => {
    for (const options of [{ token: login.accessToken }, { authorization: `Bearer ${login.accessToken}` }]) {
      const { socket, hello } = connect(url, options);
      expect(await hello).toEqual({ userId: user.id, sessionId: login.session.id, roles: ['member'] });
      socket.close();
    }
  });

  it("refuses a missing, malformed or tampered token with connect_error carrying Tessera's code", async () => {
    await expect(refusalOf(url, {})).resolves.toMatchObject({ code: 'missing_credentials' });
    await expect(refusalOf(url, { token: 42 })).resolves.toMatchObject({ code: 'invalid_token' });
    await expect(refusalOf(url, { authorization: `Basic ${login.accessToken}` })).resolves.toMatchObject({
      code: 'invalid_token',
    });
    const tampered = `${login.accessToken.slice(0, -4)}AAAA`;
    const refusal = await refusalOf(url, { token: tampered });
    expect(refusal).toEqual({ code: 'invalid_token', message: expect.any(String) as string });
    expect(refusal.message).not.toContain(tampered);
  });

  it('tells the sockets of a session logged out on Tessera why, then disconnects them, and only them', async () => {
    const mine = await fixture.logIn(user);
    const other = await fixture.logIn(user);
    const first = connect(url, { token: mine.accessToken });
    const second = connect(url, { token: mine.accessToken });
    const bystander = connect(url, { token: other.accessToken });
    await Promise.all([first.hello, second.hello, bystander.hello]);
    const heard = [first, second].map(({ socket }) =>
      within(
        new Promise<{ ended: SessionEnded; reason: string }>((resolve) =>
          socket.once(SESSION_ENDED_EVENT, (ended: SessionEnded) =>
            socket.once('disconnect', (reason) => resolve({ ended, reason })),
          ),
        ),
        'the session end and the disconnect',
      ),
    );
    await fixture.logOut(mine);
    for (const { ended, reason } of await Promise.all(heard)) {
      expect(ended).toEqual({ code: 'session_revoked' });
      // The server disconnected it: the client does not reconnect by itself.
      expect(reason).toBe('io server disconnect');
    }
    expect(bystander.socket.connected).toBe(true);
    await expect(refusalOf(url, { token: mine.accessToken })).resolves.toMatchObject({ code: 'session_revoked' });
    bystander.socket.close();
  });

  it('disconnects every socket of a disabled user with user_disabled; the user room reaches them until then', async () => {
    const disabled = await fixture.newUser();
    const sessions = [await fixture.logIn(disabled), await fixture.logIn(disabled)];
    const clients = sessions.map((session) => connect(url, { token: session.accessToken }));
    await Promise.all(clients.map(({ hello }) => hello));
    const notices = clients.map(({ socket }) =>
      within(new Promise((resolve) => socket.once('notice', resolve)), 'the notice'),
    );
    io.to(userRoom(disabled.id)).emit('notice', 'maintenance');
    expect(await Promise.all(notices)).toEqual(['maintenance', 'maintenance']);
    const ends = clients.map(({ socket }) =>
      within(new Promise((resolve) => socket.once(SESSION_ENDED_EVENT, resolve)), 'the session end'),
    );
    const disconnects = clients.map(({ socket }) =>
      within(new Promise((resolve) => socket.once('disconnect', resolve)), 'the disconnect'),
    );
    await fixture.disable(disabled, sessions);
    expect(await Promise.all(ends)).toEqual([{ code: 'user_disabled' }, { code: 'user_disabled' }]);
    await Promise.all(disconnects);
    await within(
      (async () => {
        while (io.of('/').adapter.rooms.has(userRoom(disabled.id)))
          await new Promise((resolve) => setImmediate(resolve));
      })(),
      'the user room to empty',
    );
  });
});
