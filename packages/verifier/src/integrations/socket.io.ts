/**
 * `@tessera/verifier/socket.io`: a Socket.io v4 server that accepts Tessera's users only, and
 * disconnects the sockets of sessions that end.
 */
import type { ErrorCode } from '@tessera/protocol';
import type { ExtendedError, Namespace, Socket } from 'socket.io';
import { VerifierError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { RevocationCode } from '../revocation.js';
import type { Verifier } from '../verifier.js';
import { asVerifierError, bearerToken } from './common.js';

/**
 * What {@link tesseraSocketIo} puts in `socket.data`: declare it as the server's `SocketData` to
 * have it typed.
 *
 * @example
 * ```ts
 * const io = new Server<ClientEvents, ServerEvents, {}, TesseraSocketData>(httpServer);
 * io.on('connection', (socket) => console.log(socket.data.principal.userId));
 * ```
 */
export interface TesseraSocketData {
  principal: Principal;
}

/**
 * What a socket hears, as `tessera:session_ended`, before the server disconnects it: why its session ended.
 *
 * @example
 * ```ts
 * socket.on('tessera:session_ended', ({ code }: SessionEnded) => showLogin(code === 'user_disabled'));
 * ```
 */
export interface SessionEnded {
  code: RevocationCode;
}

/**
 * The `data` of the `connect_error` a refused client sees: Tessera's error code and message.
 *
 * @example
 * ```ts
 * socket.on('connect_error', (error) => {
 *   const { code } = (error as Error & { data: ConnectRefusal }).data;
 *   if (code === 'token_expired') void refreshAndReconnect();
 * });
 * ```
 */
export interface ConnectRefusal {
  code: ErrorCode;
  message: string;
}

/** The event a socket hears before it is disconnected because its session ended. */
export const SESSION_ENDED_EVENT = 'tessera:session_ended';

/**
 * The middleware {@link tesseraSocketIo} returns.
 *
 * @example
 * ```ts
 * const tessera = tesseraSocketIo(verifier);
 * io.use(tessera);
 * process.once('SIGTERM', () => tessera.close());
 * ```
 */
export interface TesseraSocketIo {
  (socket: Socket, next: (error?: ExtendedError) => void): void;
  /**
   * Stops disconnecting sockets on revocations (the sockets stay connected).
   *
   * @example
   * ```ts
   * tessera.close();
   * await io.close();
   * ```
   */
  close(): void;
}

/**
 * The room of a session's sockets: `io.to(sessionRoom(sessionId)).emit(…)` reaches them.
 *
 * @example
 * ```ts
 * io.to(sessionRoom(principal.sessionId)).emit('notice', 'Signed in elsewhere');
 * ```
 */
export function sessionRoom(sessionId: string): string {
  return `tessera:session:${sessionId}`;
}

/**
 * The room of every socket of a user, across their sessions.
 *
 * @example
 * ```ts
 * io.to(userRoom(userId)).emit('message', { from: 'support', text: 'Hello' });
 * ```
 */
export function userRoom(userId: string): string {
  return `tessera:user:${userId}`;
}

/**
 * Socket.io middleware (`io.use(…)`, or `io.of('/chat').use(…)`) that connects the sockets of valid
 * Tessera access tokens of the verifier's app, with their principal in `socket.data.principal`.
 *
 * The client sends its token as `auth: { token }` (`io(url, { auth: { token } })`, or a function
 * answering the current token on each reconnection); servers may send `Authorization: Bearer`
 * instead. A missing or refused token fails the connection: the client's `connect_error` is an
 * Error whose `data` is Tessera's `{ code, message }` ({@link ConnectRefusal}).
 *
 * Each socket joins {@link sessionRoom} and {@link userRoom}. When the verifier hears that a
 * session ended, its sockets (every socket of the user when the user was disabled) hear
 * `tessera:session_ended` ({@link SessionEnded}) and are disconnected: the client's `disconnect`
 * reason is `io server disconnect`, and it does not reconnect by itself. Only this server's own
 * sockets are disconnected: with an adapter across servers, each server's verifier hears the
 * revocation too.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { Server } from 'socket.io';
 * import { createVerifier } from '@tessera/verifier';
 * import { tesseraSocketIo, type TesseraSocketData } from '@tessera/verifier/socket.io';
 *
 * const verifier = createVerifier({ url: 'http://127.0.0.1:3000', app: 'demo/chat' });
 * const httpServer = createServer();
 * const io = new Server<ClientEvents, ServerEvents, {}, TesseraSocketData>(httpServer);
 * io.use(tesseraSocketIo(verifier));
 * io.on('connection', (socket) => {
 *   const { userId, roles } = socket.data.principal;
 *   socket.on('message', (text) => io.emit('message', { from: userId, text }));
 * });
 * httpServer.listen(8080);
 * ```
 */
export function tesseraSocketIo(verifier: Verifier): TesseraSocketIo {
  const namespaces = new Set<Namespace>();

  const stopListening = verifier.onRevoked((revocation) => {
    const room = revocation.sessionId === undefined ? userRoom(revocation.userId) : sessionRoom(revocation.sessionId);
    const ended: SessionEnded = { code: revocation.code };
    for (const namespace of namespaces) {
      namespace.local.in(room).emit(SESSION_ENDED_EVENT, ended);
      namespace.local.in(room).disconnectSockets(true);
    }
  });

  const authenticate = async (socket: Socket): Promise<void> => {
    const principal = await verifier.verify(tokenOf(socket));
    (socket.data as Partial<TesseraSocketData>).principal = principal;
    // Joined before the socket connects: socket.io connects it on the next tick, before any I/O
    // can bring a revocation; a socket that does not connect leaves its rooms.
    await socket.join([sessionRoom(principal.sessionId), userRoom(principal.userId)]);
  };

  const middleware = (socket: Socket, next: (error?: ExtendedError) => void): void => {
    namespaces.add(socket.nsp);
    authenticate(socket).then(
      () => next(),
      (error: unknown) => next(refusal(asVerifierError(error))),
    );
  };
  return Object.assign(middleware, { close: stopListening });
}

/** The handshake's token: `auth.token`, else the Authorization header; '' when there is none. */
function tokenOf(socket: Socket): string {
  const token: unknown = (socket.handshake.auth as { token?: unknown }).token;
  if (token === undefined || token === null || token === '')
    return bearerToken(socket.handshake.headers.authorization) ?? '';
  if (typeof token !== 'string') throw new VerifierError('invalid_token', { message: 'auth.token must be a string.' });
  return token;
}

/** The error socket.io sends the client as `connect_error`, with Tessera's code in `data`. */
function refusal(error: VerifierError): ExtendedError {
  const data: ConnectRefusal = { code: error.code, message: error.message };
  return Object.assign(new Error(error.message), { data });
}
