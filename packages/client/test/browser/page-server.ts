import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** One REST call that went through the proxy. */
export interface ProxiedCall {
  method: string;
  path: string;
  strategy?: string;
  /** Tessera's answer status, once it came. */
  status?: number;
}

export interface PageServer {
  /** The page's origin, e.g. http://127.0.0.1:41234 */
  url: string;
  calls: ProxiedCall[];
  /**
   * Holds reconnect-token logins at the proxy until `ready(calls)` holds (at most HOLD_LIMIT_MS), so
   * that a test can make sure several tabs need a refresh before the first refresh answers.
   */
  holdRefreshesUntil(ready: (calls: ProxiedCall[]) => boolean): void;
  close(): Promise<void>;
}

/** A net against a test that never releases its hold, not a deadline: a busy machine may take seconds to make the tabs' calls (issue 12). */
const HOLD_LIMIT_MS = 30_000;

/** Reconnect logins waiting for the hold to end. */
interface Hold {
  ready: (calls: ProxiedCall[]) => boolean;
  waiting: (() => void)[];
}

/**
 * The test page's origin on 127.0.0.1: serves the page and the built bundle, and passes
 * `/v1/…` (REST and WebSocket upgrades) through to Tessera, so the page reaches it on its own
 * origin, as an app behind one reverse proxy does. A page may also call Tessera's own URL,
 * another origin, which works only for apps whose allowedOrigins name the page's.
 */
export async function startPageServer(tesseraUrl: string, bundleFile: string): Promise<PageServer> {
  const target = new URL(tesseraUrl);
  const calls: ProxiedCall[] = [];
  let hold: Hold | undefined;
  const recheck = () => {
    if (hold === undefined || !hold.ready(calls)) return;
    for (const release of hold.waiting) release();
    hold = undefined;
  };
  const held = async (call: ProxiedCall): Promise<void> => {
    if (call.strategy !== 'reconnect' || hold === undefined) return;
    const current = hold;
    await new Promise<void>((resolve) => {
      current.waiting.push(resolve);
      setTimeout(resolve, HOLD_LIMIT_MS);
    });
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    if (path === '/') return send(response, 'text/html; charset=utf-8', PAGE);
    if (path === '/tessera-client.js')
      return send(response, 'text/javascript; charset=utf-8', readFileSync(bundleFile));
    if (path.startsWith('/v1/')) return void proxy(request, response, target, calls, held, recheck);
    send(response, 'text/plain', 'not found', 404);
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    tunnel(request, socket, head, target),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    holdRefreshesUntil: (ready) => (hold = { ready, waiting: [] }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, type: string, body: string | Buffer, status = 200): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}

async function proxy(
  request: IncomingMessage,
  response: ServerResponse,
  target: URL,
  calls: ProxiedCall[],
  held: (call: ProxiedCall) => Promise<void>,
  answered: () => void,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const call: ProxiedCall = {
    method: request.method ?? 'GET',
    path: new URL(request.url ?? '/', 'http://page').pathname,
  };
  try {
    const strategy = (JSON.parse(body.toString('utf8')) as { strategy?: unknown }).strategy;
    if (typeof strategy === 'string') call.strategy = strategy;
  } catch {
    // Not JSON: nothing to record.
  }
  calls.push(call);
  await held(call);
  const upstream = httpRequest(
    {
      host: target.hostname,
      port: target.port,
      method: request.method,
      path: request.url,
      headers: { ...request.headers, host: target.host },
    },
    (answer) => {
      call.status = answer.statusCode;
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
      answered();
    },
  );
  upstream.on('error', () => send(response, 'text/plain', 'bad gateway', 502));
  upstream.end(body);
}

/** A WebSocket upgrade: the request head goes to Tessera as it came, then bytes flow both ways. */
function tunnel(request: IncomingMessage, socket: Duplex, head: Buffer, target: URL): void {
  const upstream = connectTcp(Number(target.port), target.hostname, () => {
    const lines = [`${request.method} ${request.url} HTTP/1.1`];
    for (let index = 0; index < request.rawHeaders.length; index += 2)
      lines.push(`${request.rawHeaders[index]}: ${request.rawHeaders[index + 1]}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const end = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', end);
  socket.on('error', end);
  upstream.on('close', end);
  socket.on('close', end);
}

/**
 * The test page: loads the bundle as a module and offers `setup()`, which makes `window.client`
 * and records its events in `window.log` for the test to read. `lockSettleMs` gives the client a
 * BroadcastChannel lock with that settle time (a lock object cannot cross page.evaluate).
 */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Tessera client test page</title></head>
<body>
<script type="module">
  import * as Tessera from '/tessera-client.js';
  window.Tessera = Tessera;
  window.log = [];
  window.setup = (key, { lockSettleMs, ...options } = {}) => {
    const lock = lockSettleMs === undefined ? {} : { lock: Tessera.broadcastChannelLock({ settleMs: lockSettleMs }) };
    const client = Tessera.createClient({ url: location.origin, app: 'demo/chat', key, storage: 'local', ...lock, ...options });
    client.on('sessionEnded', (event) => log.push({ type: 'sessionEnded', reason: event.reason, detail: event.detail }));
    client.on('refreshed', () => log.push({ type: 'refreshed' }));
    client.realtime.on('open', (event) => log.push({ type: 'open', sessionId: event.session.id }));
    client.realtime.on('close', (event) => log.push({ type: 'close', ...event }));
    window.client = client;
    return Tessera.webLocksLock() === undefined ? 'broadcast-channel' : 'web-locks';
  };
  window.ready = true;
</script>
</body></html>`;
