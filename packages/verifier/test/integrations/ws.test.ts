import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { json, LoopbackHttpServer } from '../../../server/test/helpers/http-server.js';
import type { Verifier } from '../../src/index.js';
import { tesseraUpgrade, type TesseraUpgrade } from '../../src/integrations/ws.js';
import { startFixture, within, type Fixture } from './fixture.js';

interface Refused {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** An app's own ws server on 127.0.0.1, behind tesseraUpgrade, that greets each socket with its user id. */
async function startWsServer(
  verifier: Verifier,
): Promise<{ url: string; upgrade: TesseraUpgrade; close(): Promise<void> }> {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has('chat.v1') ? 'chat.v1' : false),
  });
  const upgrade = tesseraUpgrade(verifier, wss);
  wss.on('connection', (socket) => socket.send(`hello ${upgrade.principalOf(socket).userId}`));
  const http: Server = createServer().on('upgrade', upgrade);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/chat`,
    upgrade,
    async close() {
      upgrade.close();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** A client socket, open, with its greeting. */
async function open(
  url: string,
  options: { token?: string; protocols?: string[] } = {},
): Promise<{ socket: WebSocket; greeting: string }> {
  const headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const socket = new WebSocket(url, options.protocols ?? [], { headers });
  const greeting = within(
    once(socket, 'message').then(([data]) => (data as Buffer).toString()),
    'the greeting',
  );
  return { socket, greeting: await greeting };
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return within(
    once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: (reason as Buffer).toString() })),
    'the close',
  );
}

/** The HTTP answer to a refused upgrade. */
function refused(url: string, headers: Record<string, string> = {}, protocols: string[] = []): Promise<Refused> {
  return within(
    new Promise((resolve, reject) => {
      const socket = new WebSocket(url, protocols, { headers });
      socket.once('open', () => reject(new Error('the upgrade was accepted')));
      socket.once('error', () => undefined);
      socket.once('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown, headers: response.headers }),
        );
      });
    }),
    'the refused upgrade',
  );
}

// issue 15 item 4: an app's ws server accepts Tessera's users and closes the sockets of ended sessions.
describe('@tessera/verifier/ws against a real Tessera and a real ws server', () => {
  let fixture: Fixture;
  let ws: Awaited<ReturnType<typeof startWsServer>>;
  let user: User;
  let login: AuthenticationResult;

  beforeAll(async () => {
    fixture = await startFixture();
    ws = await startWsServer(fixture.verifier);
    user = await fixture.newUser(['member']);
    login = await fixture.logIn(user);
  });
  afterAll(async () => {
    await ws?.close();
    await fixture?.close();
  });

  it('accepts a token from the Authorization header and gives the socket its principal', async () => {
    const { socket, greeting } = await open(ws.url, { token: login.accessToken });
    expect(greeting).toBe(`hello ${user.id}`);
    socket.close();
    await closed(socket);
  });

  it("accepts a browser's bearer. subprotocol and never echoes it", async () => {
    const { socket, greeting } = await open(ws.url, { protocols: ['chat.v1', `bearer.${login.accessToken}`] });
    expect(greeting).toBe(`hello ${user.id}`);
    expect(socket.protocol).toBe('chat.v1');
    socket.close();
    await closed(socket);
  });

  it("refuses a missing, malformed, tampered or another app's token with 401 and Tessera's envelope", async () => {
    const missing = await refused(ws.url);
    expect(missing).toMatchObject({
      status: 401,
      body: { error: { code: 'missing_credentials', status: 401 } },
      headers: { 'www-authenticate': 'Bearer', 'content-type': 'application/json' },
    });
    const malformed = await refused(ws.url, { authorization: `Basic ${login.accessToken}` });
    expect(malformed.body).toMatchObject({ error: { code: 'invalid_token' } });
    const tampered = `${login.accessToken.slice(0, -4)}AAAA`;
    for (const token of [tampered, 'not-a-token']) {
      const refusal = await refused(ws.url, { authorization: `Bearer ${token}` });
      expect(refusal).toMatchObject({
        status: 401,
        body: { error: { code: 'invalid_token', message: expect.any(String) as string } },
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
      expect(JSON.stringify(refusal.body)).not.toContain(token);
    }
    const fromProtocol = await refused(ws.url, {}, ['chat.v1', `bearer.${tampered}`]);
    expect(fromProtocol.body).toMatchObject({ error: { code: 'invalid_token' } });
  });

  it('answers 503 unavailable when the keys cannot be fetched', async () => {
    const broken = new LoopbackHttpServer();
    await broken.start((_request, response) => json(500, {})(response));
    const other = await startWsServer(fixture.verifierOf({ url: broken.url, publicUrl: fixture.server.url }));
    try {
      const refusal = await refused(other.url, { authorization: `Bearer ${login.accessToken}` });
      expect(refusal).toMatchObject({ status: 503, body: { error: { code: 'unavailable', status: 503 } } });
      expect(refusal.headers['retry-after']).toBe('1');
    } finally {
      await other.close();
      await broken.close();
    }
  });

  it('closes the sockets of a session logged out on Tessera with 4115 session_revoked, and only those', async () => {
    const mine = await fixture.logIn(user);
    const other = await fixture.logIn(user);
    const first = await open(ws.url, { token: mine.accessToken });
    const second = await open(ws.url, { protocols: ['chat.v1', `bearer.${mine.accessToken}`] });
    const bystander = await open(ws.url, { token: other.accessToken });
    const closes = [closed(first.socket), closed(second.socket)];
    await fixture.logOut(mine);
    for (const close of await Promise.all(closes)) expect(close).toEqual({ code: 4115, reason: 'session_revoked' });
    expect(bystander.socket.readyState).toBe(WebSocket.OPEN);
    // The same token is refused from now on.
    const again = await refused(ws.url, { authorization: `Bearer ${mine.accessToken}` });
    expect(again).toMatchObject({ status: 401, body: { error: { code: 'session_revoked' } } });
    bystander.socket.close();
    await closed(bystander.socket);
  });

  it("closes every socket of a disabled user with 4116 user_disabled, and no one else's", async () => {
    const disabled = await fixture.newUser();
    const sessions = [await fixture.logIn(disabled), await fixture.logIn(disabled)];
    const sockets = await Promise.all(sessions.map((session) => open(ws.url, { token: session.accessToken })));
    const bystander = await open(ws.url, { token: login.accessToken });
    const closes = sockets.map(({ socket }) => closed(socket));
    await fixture.disable(disabled, sessions);
    for (const close of await Promise.all(closes)) expect(close).toEqual({ code: 4116, reason: 'user_disabled' });
    expect(bystander.socket.readyState).toBe(WebSocket.OPEN);
    bystander.socket.close();
    await closed(bystander.socket);
  });

  it('keeps nothing of 1,000 sockets that connected and closed', async () => {
    const before = ws.upgrade.connections;
    for (let round = 0; round < 20; round += 1) {
      const sockets = await Promise.all(Array.from({ length: 50 }, () => open(ws.url, { token: login.accessToken })));
      await Promise.all(
        sockets.map(({ socket }) => {
          const done = closed(socket);
          socket.close();
          return done;
        }),
      );
    }
    // The server's close handlers run before the client hears the close; wait for the last ones all the same.
    await within(
      (async () => {
        while (ws.upgrade.connections !== before) await new Promise((resolve) => setImmediate(resolve));
      })(),
      'the server to forget the closed sockets',
    );
    expect(ws.upgrade.connections).toBe(0);
    expect(fixture.revocations.listening).toBe(1);
  });
});
