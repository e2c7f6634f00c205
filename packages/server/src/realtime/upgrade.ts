import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { BEARER_SUBPROTOCOL_PREFIX, REALTIME_SUBPROTOCOL } from '@tessera/protocol';
import { originAllowed, originNotAllowed } from '../apps/allowed-origins.js';
import type { ClientInfo } from '../auth/sessions/session-service.js';
import { TesseraError } from '../errors.js';
import type { AppRecord } from '../store/repositories/index.js';

/** What an upgrade request asks for, before the app is looked up. */
export interface UpgradeTarget {
  namespace: string;
  app: string;
  /** An access token given at the upgrade: the connection is authenticated without a frame. */
  accessToken?: string;
  /** The app's publishable (or secret) key, which `authenticate` frames need, as REST logins do. */
  apiKey?: string;
  client: ClientInfo;
  /** The upgrade's id in logs: the client's X-Request-Id when short and plain (requestIdOf), else a new one. */
  requestId: string;
}

const REALTIME_PATH = /^\/v1\/apps\/([^/?#]+)\/([^/?#]+)\/realtime\/?$/;
const BEARER = /^Bearer ([^\s]{1,8192})$/i;
const API_KEY = /^(pk|sk)_/;

/**
 * Reads an upgrade request for `/v1/apps/{namespace}/{app}/realtime`. Credentials may come as
 * `Authorization: Bearer <accessToken | pk_… | sk_…>`, `X-Tessera-Key`, `?key=` (browsers
 * cannot set headers), or the subprotocol `bearer.<accessToken>` next to `tessera.v1`.
 */
export function parseUpgrade(
  request: IncomingMessage,
  clientAddress: (request: IncomingMessage) => string | null,
  requestId: string,
): UpgradeTarget {
  const url = new URL(request.url ?? '/', 'http://upgrade');
  const match = REALTIME_PATH.exec(url.pathname);
  if (match === null) throw new TesseraError('route_not_found');
  const target: UpgradeTarget = {
    namespace: decodeSegment(match[1]!),
    app: decodeSegment(match[2]!),
    client: clientOf(request, clientAddress),
    requestId,
  };
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const bearer = BEARER.exec(authorization)?.[1];
    if (bearer === undefined)
      throw new TesseraError('invalid_token', { message: 'The Authorization header must be "Bearer <token>".' });
    if (API_KEY.test(bearer)) target.apiKey = bearer;
    else target.accessToken = bearer;
  }
  const keyHeader = request.headers['x-tessera-key'];
  const key = typeof keyHeader === 'string' ? keyHeader : url.searchParams.get('key');
  if (key !== null && key !== '') target.apiKey = key;
  const fromProtocol = subprotocols(request).find((protocol) => protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (fromProtocol !== undefined && target.accessToken === undefined)
    target.accessToken = fromProtocol.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  return target;
}

/**
 * Browsers apply no CORS to WebSockets: any page may open one to any server, so the server
 * checks the Origin a browser sends (against cross-site WebSocket hijacking). Accepted: no
 * Origin (not a browser), the server's own origin (the host the request was sent to, as
 * Centrifugo checks it), or an origin in the app's allowedOrigins.
 */
export function assertOriginAllowed(request: IncomingMessage, app: AppRecord): void {
  const origin = request.headers.origin;
  if (
    origin === undefined ||
    originAllowed(app.settings.allowedOrigins, origin) ||
    sameHost(origin, request.headers.host)
  )
    return;
  throw originNotAllowed(origin);
}

function sameHost(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** The subprotocol the server answers: `tessera.v1` when offered; never the bearer token. */
export function chooseSubprotocol(offered: Set<string>): string | false {
  return offered.has(REALTIME_SUBPROTOCOL) ? REALTIME_SUBPROTOCOL : false;
}

/** Refuses an upgrade with the error's HTTP status, the usual JSON error body and the request's id (plain: requestIdOf checked it). */
export function refuseUpgrade(socket: Duplex, error: TesseraError, requestId: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(error.toBody());
  const retryAfter = error.retryAfterSeconds === undefined ? '' : `Retry-After: ${error.retryAfterSeconds}\r\n`;
  socket.end(
    `HTTP/1.1 ${error.status} ${statusText(error.status)}\r\nConnection: close\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nX-Request-Id: ${requestId}\r\n${retryAfter}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function subprotocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  return header === undefined ? [] : header.split(',').map((protocol) => protocol.trim());
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TesseraError('app_not_found');
  }
}

function clientOf(request: IncomingMessage, clientAddress: (request: IncomingMessage) => string | null): ClientInfo {
  const agent = request.headers['user-agent'];
  return { userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null, ip: clientAddress(request) };
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  return texts[status] ?? 'Error';
}
