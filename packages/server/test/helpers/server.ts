import { createTessera, type Tessera } from '../../src/tessera.js';
import { loadConfig } from '../../src/config/index.js';
import { bootstrapFirstRun } from '../../src/bootstrap.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/logger.js';
import type { Backend } from './backends.js';
import type { LogCapture } from './log-capture.js';

/** A fixed master key for tests; never used outside them. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestServer {
  tessera: Tessera;
  clock: ManualClock;
  /**
   * Real elapsed time as the server sees it: the heartbeats of sockets (and of cluster nodes) run
   * only when a test moves it, so that a busy machine never lets a deadline pass by itself.
   */
  realTime: ManualClock;
  url: string;
  /** Base URL of demo/chat. */
  appUrl: string;
  publishableKey: string;
  secretKey: string;
  adminToken: string;
  databaseUrl: string | undefined;
  dataDir: string;
  api: Api;
  /** Stops this server and starts another on the same database and configuration (a node restart). */
  restart(): Promise<TestServer>;
  close(): Promise<void>;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is (for malformed bodies). */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Bearer credential. */
  token?: string;
  /** X-Tessera-Key. */
  key?: string;
}

export type Api = <T = Record<string, unknown>>(
  method: string,
  path: string,
  options?: RequestOptions,
) => Promise<ApiResponse<T>>;

export interface TestServerOptions {
  /** Keeps the server's log (level debug) instead of silencing it. */
  logs?: LogCapture;
}

/** Starts a real Tessera on 127.0.0.1 with a fresh database on `backend`, with demo/chat created. */
export async function startTestServer(
  backend: Backend,
  overrides: Record<string, unknown> = {},
  { logs }: TestServerOptions = {},
): Promise<TestServer> {
  const { databaseUrl, dataDir, dispose } = await backend.provision();
  const config = loadConfig({
    overrides: {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      databaseUrl,
      masterKey: TEST_MASTER_KEY,
      logLevel: 'silent',
      // Small argon2 parameters keep the suite fast; the benchmark uses the real ones.
      passwords: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      ...overrides,
    },
  });
  const clock = new ManualClock(Date.now());
  const realTime = new ManualClock(0);
  const logger = () => (logs === undefined ? createLogger('silent') : createLogger('debug', logs));
  const tessera = await createTessera({ config, clock, scheduler: clock, realTime, logger: logger() });
  const firstRun = await bootstrapFirstRun(tessera.services);
  if (firstRun === undefined) throw new Error('expected a fresh database');
  const serve = async (running: Tessera): Promise<TestServer> => {
    const url = await running.listen();
    return {
      tessera: running,
      clock,
      realTime,
      url,
      appUrl: `${url}/v1/apps/demo/chat`,
      publishableKey: firstRun.publishableKey,
      secretKey: firstRun.secretKey,
      adminToken: firstRun.adminToken,
      databaseUrl,
      dataDir,
      api: makeApi(url),
      async restart() {
        await running.close();
        return serve(await createTessera({ config, clock, scheduler: clock, realTime, logger: logger() }));
      },
      async close() {
        await running.close();
        await dispose();
      },
    };
  };
  return serve(tessera);
}

export function makeApi(baseUrl: string): Api {
  return async <T>(method: string, path: string, options: RequestOptions = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.key !== undefined) headers['x-tessera-key'] = options.key;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T, headers: response.headers };
  };
}
