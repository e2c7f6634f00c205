/**
 * `@tessera/verifier/ws`: a `ws` server that accepts Tessera's users only, and closes the sockets
 * of sessions that end.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { BEARER_SUBPROTOCOL_PREFIX } from '@tessera/protocol';
import type { WebSocket, WebSocketServer } from 'ws';
import { VerifierError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { Verifier } from '../verifier.js';
import { asVerifierError, bearerToken, closeCodeOf, ConnectionIndex, envelopeOf, refusalHeaders } from './common.js';

/**
 * The `'upgrade'` listener {@link tesseraUpgrade} returns, with what it knows of its sockets.
 *
 * @example
 * ```ts
 * const upgrade = tesseraUpgrade(verifier, wss);
 * httpServer.on('upgrade', upgrade);
 * wss.on('connection', (socket) => socket.send(`hello ${upgrade.principalOf(socket).userId}`));
 * ```
 */
export interface TesseraUpgrade {
  (request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * The principal of a socket this listener accepted; throws for a socket it did not accept.
   *
   * @example
   * ```ts
   * wss.on('connection', (socket) => {
   *   const { userId, roles } = upgrade.principalOf(socket);
   * });
   * ```
   */
  principalOf(socket: WebSocket): Principal;
  /** How many accepted sockets are open. */
  readonly connections: number;
  /**
   * Stops closing sockets on revocations (the sockets stay open); call it when the server stops.
   *
   * @example
   * ```ts
   * upgrade.close();
   * wss.close();
   * ```
   */
  close(): void;
}

/**
 * An `'upgrade'` listener for an `http.Server` that completes the upgrades of valid Tessera
 * access tokens of the verifier's app on `server` (a `WebSocketServer({ noServer: true })`), which
 * then emits `'connection'` as usual.
 *
 * The token is read from the `Authorization: Bearer <token>` header (servers, native apps) or,
 * since browsers cannot set headers on a WebSocket, from a `Sec-WebSocket-Protocol` entry
 * `bearer.<token>` — as Tessera's own realtime gateway takes it. That entry is removed before
 * `ws` chooses the subprotocol to answer, so the token is never echoed: a browser must offer
 * its app's own subprotocol next to it. A token in the URL's query is not accepted (URLs end up
 * in logs). A missing or refused token is answered with its HTTP status (401, or 503 when the
 * keys cannot be fetched) and Tessera's error envelope, and the socket is never opened.
 *
 * When the verifier hears that a session ended, its sockets close with Tessera's close code:
 * 4115 `session_revoked`, 4116 `user_disabled` (every socket of the user).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { WebSocketServer } from 'ws';
 * import { createVerifier } from '@tessera/verifier';
 * import { tesseraUpgrade } from '@tessera/verifier/ws';
 *
 * const verifier = createVerifier({ url: 'http://127.0.0.1:3000', app: 'demo/chat' });
 * const wss = new WebSocketServer({ noServer: true });
 * const upgrade = tesseraUpgrade(verifier, wss);
 * const server = createServer().on('upgrade', upgrade).listen(8080);
 * wss.on('connection', (socket) => {
 *   const { userId } = upgrade.principalOf(socket);
 *   socket.on('message', (data) => socket.send(`${userId}: ${data.toString()}`));
 * });
 * ```
 */
export function tesseraUpgrade(verifier: Verifier, server: WebSocketServer): TesseraUpgrade {
  const principals = new WeakMap<WebSocket, Principal>();
  const index = new ConnectionIndex<WebSocket>();

  const stopListening = verifier.onRevoked((revocation) => {
    const error = new VerifierError(revocation.code);
    for (const socket of index.ended(revocation)) socket.close(closeCodeOf(error), revocation.code);
  });

  const accept = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // A client that resets the connection while its token is checked must not crash the server.
    const destroy = () => socket.destroy();
    socket.on('error', destroy);
    let principal: Principal;
    try {
      const token = tokenOf(request);
      if (token === undefined) throw new VerifierError('missing_credentials');
      principal = await verifier.verify(token);
    } catch (error) {
      refuse(socket, asVerifierError(error));
      return;
    }
    socket.off('error', destroy);
    withoutBearerProtocol(request);
    // ws completes the upgrade synchronously (no verifyClient), right after `verify` asked the
    // revocation source: no revocation can slip between that answer and the index.
    server.handleUpgrade(request, socket, head, (webSocket) => {
      principals.set(webSocket, principal);
      index.add(webSocket, principal);
      webSocket.once('close', () => index.remove(webSocket, principal));
      server.emit('connection', webSocket, request);
    });
  };

  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    void accept(request, socket, head);
  };
  return Object.assign(upgrade, {
    principalOf(socket: WebSocket): Principal {
      const principal = principals.get(socket);
      if (principal === undefined) throw new TypeError('This socket was not accepted by this tesseraUpgrade.');
      return principal;
    },
    get connections() {
      return index.size;
    },
    close: stopListening,
  });
}

/** The access token of an upgrade request: its Authorization header, else its `bearer.` subprotocol. */
function tokenOf(request: IncomingMessage): string | undefined {
  const fromHeader = bearerToken(request.headers.authorization);
  if (fromHeader !== undefined) return fromHeader;
  return subprotocols(request)
    .find((protocol) => protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX))
    ?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
}

/** Leaves the app's own subprotocols for `ws` to choose from, so the token is never echoed. */
function withoutBearerProtocol(request: IncomingMessage): void {
  const offered = subprotocols(request);
  const kept = offered.filter((protocol) => !protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (kept.length === offered.length) return;
  if (kept.length === 0) delete request.headers['sec-websocket-protocol'];
  else request.headers['sec-websocket-protocol'] = kept.join(', ');
}

function subprotocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  return header === undefined ? [] : header.split(',').map((protocol) => protocol.trim());
}

/** Answers a refused upgrade with the error's status and Tessera's envelope, then closes the socket. */
function refuse(socket: Duplex, error: VerifierError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(envelopeOf(error));
  const headers = Object.entries({
    connection: 'close',
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...refusalHeaders(error),
  }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n${headers.join('')}\r\n${body}`);
}
