import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthenticationService, authenticate } from '@feathersjs/authentication';
import authenticationClient, { MemoryStorage } from '@feathersjs/authentication-client';
import feathersExpress, { errorHandler, json, rest } from '@feathersjs/express';
import { feathers, type Application, type Params } from '@feathersjs/feathers';
import socketio from '@feathersjs/socketio';
import socketioClient from '@feathersjs/socketio-client';
import { io } from 'socket.io-client';
import type { Principal } from '../../src/index.js';
import type { TesseraStrategy } from '../../src/integrations/feathers.js';

/** A Feathers v5 app over @feathersjs/express and @feathersjs/socketio, guarded by the Tessera strategy. */
export async function startFeathersApp(
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
export function socketClient(url: string, extraHeaders: Record<string, string> = {}): Application {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders });
  const client = feathers();
  // socket.io-client's ESM build, typed apart from the CommonJS one Feathers' types name.
  client.configure(socketioClient.default(socket as unknown as Parameters<typeof socketioClient.default>[0]));
  client.configure(authenticationClient.default({ jwtStrategy: 'tessera', storage: new MemoryStorage() }));
  return client;
}
