import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthenticationResult, User } from '@tessera/protocol';
import { AuthenticationService, authenticate } from '@feathersjs/authentication';
import authenticationClient, { MemoryStorage } from '@feathersjs/authentication-client';
import type { FeathersError } from '@feathersjs/errors';
import feathersExpress, { errorHandler, json, rest } from '@feathersjs/express';
import { feathers, type Application, type Params } from '@feathersjs/feathers';
import restClient from '@feathersjs/rest-client';
import socketio from '@feathersjs/socketio';
import socketioClient from '@feathersjs/socketio-client';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal, Revocation } from '../../src/index.js';
import { TesseraStrategy } from '../../src/integrations/feathers.js';
import { startFixture, within, type Fixture } from './fixture.js';

interface Message {
  text: string;
  from: string;
}

/** A Feathers v5 app over @feathersjs/express and @feathersjs/socketio, guarded by the Tessera strategy. */
async function startFeathersApp(
  strategy: TesseraStrategy,
): Promise<{ app: Application; url: string; http: HttpServer }> {
  const app = feathersExpress.default(feathers());
  app.use(json());
  app.configure(rest());
  app.configure(socketio());
  app.set('authentication', { secret: 'not-used-by-tessera-tokens', entity: null, authStrategies: ['tessera'] });
  const authentication = new AuthenticationService(app);
  authentication.register('tessera', strategy);
  app.use('authentication', authentication);
  app.use('whoami', {
    async find(params: Params & { principal?: Principal }) {
      const { userId, sessionId, roles } = params.principal!;
      return Promise.resolve({ userId, sessionId, roles });
    },
  });
  app.use('messages', {
    async create(data: { text: string }, params: Params & { principal?: Principal }) {
      return Promise.resolve({ text: data.text, from: params.principal!.userId });
    },
  });
  for (const path of ['whoami', 'messages']) app.service(path).hooks({ before: { all: [authenticate('tessera')] } });
  // Channels as Feathers' generated apps have them: logged-in connections hear every event.
  app.on('login', (_result: unknown, { connection }: Params & { connection?: object }) => {
    if (connection !== undefined) app.channel('authenticated').join(connection);
  });
  app.publish(() => app.channel('authenticated'));
  app.use(errorHandler({ logger: false }));
  const http = await app.listen(0, '127.0.0.1');
  if (!http.listening) await once(http, 'listening');
  return { app, http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

/** A Feathers client over Socket.io, with authentication-client set to re-authenticate with 'tessera'. */
function socketClient(url: string, extraHeaders: Record<string, string> = {}): Application {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders });
  const client = feathers();
  // socket.io-client's ESM build, typed apart from the CommonJS one Feathers' types name.
  client.configure(socketioClient.default(socket as unknown as Parameters<typeof socketioClient.default>[0]));
  client.configure(authenticationClient.default({ jwtStrategy: 'tessera', storage: new MemoryStorage() }));
  return client;
}

async function failureOf(call: Promise<unknown>): Promise<FeathersError> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason as FeathersError,
  );
  expect(error, 'the call was not refused').toBeDefined();
  return error!;
}

// issue 15 item 4: a Feathers v5 app accepts Tessera's access tokens over REST and Socket.io, and
// logs out the connections of sessions that end.
describe('@tessera/verifier/feathers against a real Tessera and a real Feathers v5 app', () => {
  let fixture: Fixture;
  let strategy: TesseraStrategy;
  let app: Application;
  let http: HttpServer;
  let url: string;
  let user: User;
  let login: AuthenticationResult;
  const clients: Application[] = [];

  const connected = (headers: Record<string, string> = {}): Application => {
    const client = socketClient(url, headers);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    fixture = await startFixture();
    strategy = new TesseraStrategy(fixture.verifier);
    ({ app, http, url } = await startFeathersApp(strategy));
    user = await fixture.newUser(['member']);
    login = await fixture.logIn(user);
  });
  afterAll(async () => {
    for (const client of clients) (client.io as { close(): void } | undefined)?.close();
    strategy?.close();
    await app?.teardown();
    if (http?.listening) await new Promise((resolve) => http.close(resolve));
    await fixture?.close();
  });

  it('accepts the Authorization header and { strategy: "tessera", accessToken } over REST', async () => {
    const client = feathers().configure(restClient.default(url).fetch(fetch));
    await expect(
      client.service('whoami').find({ headers: { authorization: `Bearer ${login.accessToken}` } }),
    ).resolves.toEqual({ userId: user.id, sessionId: login.session.id, roles: ['member'] });
    const result = (await client
      .service('authentication')
      .create({ strategy: 'tessera', accessToken: login.accessToken })) as { principal: Principal };
    expect(result.principal).toMatchObject({ userId: user.id, sessionId: login.session.id });
  });

  it("refuses a missing, tampered or ended token over REST with NotAuthenticated and Tessera's code", async () => {
    const client = feathers().configure(restClient.default(url).fetch(fetch));
    const whoami = (authorization?: string) =>
      failureOf(client.service('whoami').find(authorization === undefined ? {} : { headers: { authorization } }));
    await expect(whoami()).resolves.toMatchObject({ name: 'NotAuthenticated', code: 401 });
    const tampered = `${login.accessToken.slice(0, -4)}AAAA`;
    const refused = await whoami(`Bearer ${tampered}`);
    expect(refused).toMatchObject({ name: 'NotAuthenticated', code: 401, data: { code: 'invalid_token' } });
    expect(JSON.stringify(refused)).not.toContain(tampered);
    await expect(
      failureOf(client.service('authentication').create({ strategy: 'tessera', accessToken: tampered })),
    ).resolves.toMatchObject({ code: 401, data: { code: 'invalid_token' } });
    const ended = await fixture.logIn(user);
    await fixture.logOut(ended);
    await expect(whoami(`Bearer ${ended.accessToken}`)).resolves.toMatchObject({
      code: 401,
      data: { code: 'session_revoked' },
    });
  });

  it('logs a Socket.io connection out when its session ends on Tessera: no more events, calls unauthenticated', async () => {
    const session = await fixture.logIn(user);
    const ended = connected();
    const bystander = connected();
    await ended.authenticate({ strategy: 'tessera', accessToken: session.accessToken });
    await bystander.authenticate({ strategy: 'tessera', accessToken: login.accessToken });
    await expect(ended.service('whoami').find()).resolves.toMatchObject({ sessionId: session.session.id });
    const heard: Message[] = [];
    ended.service('messages').on('created', (message: Message) => heard.push(message));
    const before = within(once(bystander.service('messages'), 'created'), 'the first message');
    await bystander.service('messages').create({ text: 'before' });
    await before;

    const loggedOut = within(
      new Promise<{ revocation: Revocation; principal: Principal }>((resolve) =>
        app.once('logout', (result: { revocation: Revocation; principal: Principal }) => resolve(result)),
      ),
      'the logout',
    );
    const connections = strategy.connections;
    await fixture.logOut(session);
    const result = await loggedOut;
    expect(result.revocation).toEqual({ userId: user.id, sessionId: session.session.id, code: 'session_revoked' });
    expect(result.principal.sessionId).toBe(session.session.id);
    expect(strategy.connections).toBe(connections - 1);

    const after = within(once(bystander.service('messages'), 'created'), 'the second message');
    await bystander.service('messages').create({ text: 'after' });
    await after;
    // A call on the same socket answers after any event sent to it before: none came. The
    // connection has no authentication left (Feathers' own message), not merely a refused token.
    await expect(failureOf(ended.service('whoami').find())).resolves.toMatchObject({
      name: 'NotAuthenticated',
      code: 401,
      message: 'Not authenticated',
    });
    expect(heard.map((message) => message.text)).toEqual(['before']);
    await expect(bystander.service('whoami').find()).resolves.toMatchObject({ sessionId: login.session.id });
  });

  it('accepts the Authorization header at a Socket.io handshake, and logs out every connection of a disabled user', async () => {
    const disabled = await fixture.newUser();
    const sessions = [await fixture.logIn(disabled), await fixture.logIn(disabled)];
    const fromHeader = connected({ authorization: `Bearer ${sessions[0]!.accessToken}` });
    const fromCall = connected();
    await fromCall.authenticate({ strategy: 'tessera', accessToken: sessions[1]!.accessToken });
    await expect(fromHeader.service('whoami').find()).resolves.toMatchObject({ userId: disabled.id });
    const logouts: Revocation[] = [];
    const bothLoggedOut = within(
      new Promise<void>((resolve) => {
        const listener = (result: { revocation?: Revocation }) => {
          if (result.revocation?.userId === disabled.id) logouts.push(result.revocation);
          if (logouts.length === 2) {
            app.off('logout', listener);
            resolve();
          }
        };
        app.on('logout', listener);
      }),
      'both logouts',
    );
    await fixture.disable(disabled, sessions);
    await bothLoggedOut;
    expect(logouts).toEqual([
      { userId: disabled.id, code: 'user_disabled' },
      { userId: disabled.id, code: 'user_disabled' },
    ]);
    for (const client of [fromHeader, fromCall])
      await expect(failureOf(client.service('whoami').find())).resolves.toMatchObject({ name: 'NotAuthenticated' });
  });

  it('forgets a connection that disconnects', async () => {
    const client = connected();
    await client.authenticate({ strategy: 'tessera', accessToken: login.accessToken });
    const connections = strategy.connections;
    const gone = within(new Promise((resolve) => app.once('disconnect', resolve)), 'the disconnect');
    (client.io as { close(): void }).close();
    await gone;
    await within(
      (async () => {
        while (strategy.connections !== connections - 1) await new Promise((resolve) => setImmediate(resolve));
      })(),
      'the strategy to forget the connection',
    );
  });
});
