import type { IncomingHttpHeaders } from 'node:http';
import { ERROR_CODES, REALTIME_SUBPROTOCOL, SERVER_FRAME_SCHEMAS, type ServerFrame } from '@tessera/protocol';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import WebSocket from 'ws';
import type { TestApp } from './apps.js';
import type { TestServer } from './server.js';

/**
 * How long a test waits for an event before it fails. Never a sleep: the wait ends at the event,
 * so a generous bound costs nothing when things work, and holds on a busy machine (issue 12).
 */
export const EVENT_TIMEOUT_MS = 15_000;

export interface Closed {
  code: number;
  reason: string;
  /** The registry's error code for `code`, if it is one of Tessera's close codes. */
  error: string | undefined;
}

export interface ConnectOptions {
  app?: TestApp;
  /** Sent as Authorization: Bearer. */
  token?: string;
  /** Sent as ?key=. */
  key?: string;
  protocols?: string[];
  headers?: Record<string, string>;
  autoPong?: boolean;
}

const ajv = addFormats.default(new Ajv({ strict: false, allErrors: true }));
const SERVER_FRAME_VALIDATORS = new Map<string, ValidateFunction>(
  Object.entries(SERVER_FRAME_SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)]),
);

/** Every frame a test receives must match its schema in protocol; a mismatch fails the run loudly. */
function assertServerFrame(frame: ServerFrame): void {
  const validate = SERVER_FRAME_VALIDATORS.get(frame.type);
  if (validate === undefined || !validate(frame))
    throw new Error(
      `server frame does not match protocol: ${JSON.stringify(frame)} ${JSON.stringify(validate?.errors)}`,
    );
}

const BY_CLOSE_CODE = new Map(
  Object.entries(ERROR_CODES).map(([code, definition]) => [definition.closeCode as number, code]),
);

/** The error code a close code stands for. */
export function errorOfCloseCode(code: number): string | undefined {
  return BY_CLOSE_CODE.get(code);
}

/** A `ws` client that keeps every frame it receives, and waits on frames and on the close. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<Closed>;
  private readonly waiters = new Set<() => void>();
  private consumed = 0;
  private nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      assertServerFrame(frame);
      this.frames.push(frame);
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) =>
        resolve({ code, reason: reason.toString(), error: errorOfCloseCode(code) }),
      ),
    );
    void this.closed.then(() => {
      for (const wake of this.waiters) wake();
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends a frame with a fresh id and resolves with the frame that answers it. */
  async request<T extends ServerFrame = ServerFrame>(frame: object): Promise<T> {
    const id = `r${this.nextId++}`;
    this.send({ ...frame, id });
    return this.waitFor((received) => 'id' in received && received.id === id) as Promise<T>;
  }

  /** The next frame not yet taken, of `type` when given (frames of other types are skipped over). */
  async next<T extends ServerFrame['type']>(type?: T): Promise<Extract<ServerFrame, { type: T }>> {
    return this.waitFor((frame) => type === undefined || frame.type === type, true) as Promise<
      Extract<ServerFrame, { type: T }>
    >;
  }

  /** The close, within the timeout. */
  async waitClosed(timeoutMs = EVENT_TIMEOUT_MS): Promise<Closed> {
    return withTimeout(this.closed, timeoutMs, 'the socket to close');
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000);
    await this.waitClosed();
  }

  /** The first frame received so far or later that matches, whether or not `next` took it. */
  async find<T extends ServerFrame = ServerFrame>(
    match: (frame: ServerFrame) => boolean,
    timeoutMs = EVENT_TIMEOUT_MS,
  ): Promise<T> {
    return this.waitFor(match, false, timeoutMs) as Promise<T>;
  }

  private waitFor(
    match: (frame: ServerFrame) => boolean,
    inOrder = false,
    timeoutMs = EVENT_TIMEOUT_MS,
  ): Promise<ServerFrame> {
    return withTimeout(
      new Promise<ServerFrame>((resolve, reject) => {
        const check = () => {
          const start = inOrder ? this.consumed : 0;
          const index = this.frames.findIndex((frame, position) => position >= start && match(frame));
          if (index >= 0) {
            if (inOrder) this.consumed = index + 1;
            this.waiters.delete(check);
            return resolve(this.frames[index]!);
          }
          if (this.ws.readyState === WebSocket.CLOSED) {
            this.waiters.delete(check);
            reject(
              new Error(
                `socket closed while waiting for a frame; frames: ${JSON.stringify(this.frames.map((frame) => frame.type))}`,
              ),
            );
          }
        };
        this.waiters.add(check);
        check();
      }),
      timeoutMs,
      'a frame',
    );
  }
}

export function realtimeUrl(server: Pick<TestServer, 'url'>, app?: TestApp, query = ''): string {
  return `${server.url.replace(/^http/, 'ws')}${app?.path ?? '/v1/apps/demo/chat'}/realtime${query}`;
}

/** Opens a socket (without authenticating unless a token is given). */
export async function connect(server: Pick<TestServer, 'url'>, options: ConnectOptions = {}): Promise<TestClient> {
  const query = options.key === undefined ? '' : `?key=${encodeURIComponent(options.key)}`;
  const headers = {
    ...options.headers,
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
  };
  const ws = new WebSocket(realtimeUrl(server, options.app, query), options.protocols ?? [REALTIME_SUBPROTOCOL], {
    headers,
    autoPong: options.autoPong ?? true,
  });
  const client = new TestClient(ws);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    EVENT_TIMEOUT_MS,
    'the socket to open',
  );
  return client;
}

/** Opens a socket with an access token at the upgrade and waits for `authenticated`. */
export async function connectWithToken(
  server: Pick<TestServer, 'url'>,
  token: string,
  app?: TestApp,
): Promise<TestClient> {
  const client = await connect(server, { token, app });
  await client.next('authenticated');
  return client;
}

/** The HTTP answer to an upgrade the server refuses. */
export function refusedUpgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: IncomingHttpHeaders }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, [REALTIME_SUBPROTOCOL], { headers });
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
      ws.once('error', () => undefined);
      ws.once('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown, headers: response.headers }),
        );
      });
    }),
    EVENT_TIMEOUT_MS,
    'the refused upgrade',
  );
}

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_resolve, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
