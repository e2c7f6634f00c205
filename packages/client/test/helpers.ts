import WebSocket from 'ws';
import { createApp, demoApp, type TestApp } from '../../server/test/helpers/apps.js';
import type { TestServer } from '../../server/test/helpers/server.js';
import { PASSWORD, uniqueEmail } from '../../server/test/helpers/users.js';
import {
  createClient,
  memoryStorage,
  type ClientOptions,
  type FetchFunction,
  type TesseraClient,
  type TokenStorage,
} from '../src/index.js';

export { createApp, demoApp, PASSWORD, uniqueEmail, type TestApp };

/**
 * How long a test waits for an event before it fails. Never a sleep: the wait ends at the event,
 * so a generous bound costs nothing when things work, and holds on a busy machine (issue 12).
 */
export const EVENT_TIMEOUT_MS = 15_000;

/** One REST call the client made. */
export interface Call {
  method: string;
  path: string;
  /** The login strategy, for POST …/authentication. */
  strategy?: string;
}

/** A fetch that records every call it passes on, to count the reconnect tokens spent. */
export function recordingFetch(): { fetch: FetchFunction; calls: Call[]; spent: () => number } {
  const calls: Call[] = [];
  const fetch: FetchFunction = (input, init) => {
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as { strategy?: unknown }) : undefined;
    const strategy = typeof body?.strategy === 'string' ? body.strategy : undefined;
    calls.push({
      method: init.method ?? 'GET',
      path: new URL(input).pathname,
      ...(strategy === undefined ? {} : { strategy }),
    });
    return globalThis.fetch(input, init);
  };
  return { fetch, calls, spent: () => calls.filter((call) => call.strategy === 'reconnect').length };
}

export interface TestClientOptions extends Partial<Omit<ClientOptions, 'app'>> {
  app?: TestApp;
}

/**
 * A client of demo/chat (or `app`) on the test server, on the server's manual clock, with
 * memory storage, `ws`, immediate reconnects and no pings (the clock jumps).
 */
export function makeClient(server: TestServer, options: TestClientOptions = {}): TesseraClient {
  const { app = demoApp(server), ...rest } = options;
  return createClient({
    url: server.url,
    app: `${app.namespace}/${app.name}`,
    key: app.publishableKey,
    storage: memoryStorage(),
    clock: server.clock,
    WebSocket,
    ...rest,
    realtime: { random: () => 0, pingIntervalMs: 0, ...rest.realtime },
  });
}

/** Signs a new user up through the client and logs it in; returns its email. */
export async function signUpAndConnect(client: TesseraClient, fields: Record<string, unknown> = {}): Promise<string> {
  const email = uniqueEmail('client');
  await client.signup({ email, password: PASSWORD, ...fields });
  await client.connect(email, PASSWORD);
  return email;
}

/** Changes an app's settings with the admin API. */
export async function patchSettings(
  server: TestServer,
  app: TestApp,
  settings: Record<string, unknown>,
): Promise<void> {
  const response = await server.api('PATCH', `/v1/admin/apps/${app.namespace}/${app.name}`, {
    token: server.adminToken,
    body: { settings },
  });
  if (response.status !== 200)
    throw new Error(`settings patch failed: ${response.status} ${JSON.stringify(response.body)}`);
}

/** Resolves with the first event `subscribe` delivers that matches, within the timeout. */
export function nextEvent<T>(
  subscribe: (listener: (event: T) => void) => () => void,
  match: (event: T) => boolean = () => true,
  what = 'an event',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}`));
    }, EVENT_TIMEOUT_MS);
    const stop = subscribe((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

/** A storage whose every method answers asynchronously, as React Native's AsyncStorage does. */
export function asyncStorage(): TokenStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: async (key) => items.get(key) ?? null,
    setItem: async (key, value) => void items.set(key, value),
    removeItem: async (key) => void items.delete(key),
  };
}

export { memoryStorage };
