import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { json, LoopbackHttpServer } from '../helpers/http-server.js';
import { startNode, type NodeProcess } from '../helpers/node-process.js';
import { connectWithToken } from '../helpers/realtime.js';
import { makeApi, type Api } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

// Issue 6, item 5: SIGTERM stops accepting, tells realtime clients to reconnect elsewhere
// (server_shutdown, 4017), finishes requests in flight, and exits 0 — within a bound.

const APP = '/v1/apps/demo/chat';
/**
 * The identity provider answers a `slow-…` token when the test releases it, or after this long at
 * the latest: later than any test lasts, so that only the release answers it in a test that passes.
 */
const SLOW_ANSWER_MS = 120_000;
/**
 * The drain: /readyz must be asked once while it lasts. Generous for one request on a busy machine,
 * and short beside the webhook's 10 s limit (its largest), which the whole shutdown must fit in.
 */
const DRAIN_MS = 2000;

/**
 * The app's identity-provider webhook: `slow-…` tokens are answered when `release(token)` is
 * called (an honestly slow request in flight, for as long as the test needs), `never-…` ones
 * never. `received(token)` resolves once the call for `token` has arrived, so the test knows
 * the login is in flight.
 */
class SlowIdentityProvider extends LoopbackHttpServer {
  private readonly arrivals = new Map<string, () => void>();
  private readonly arrived = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly releases = new Map<string, () => void>();

  override async start(): Promise<void> {
    const never = this.hold();
    await super.start((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const { token } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token: string };
        this.arrived.add(token);
        this.arrivals.get(token)?.();
        if (token.startsWith('never-')) return never(response);
        const answer = () => {
          clearTimeout(timer);
          this.timers.delete(timer);
          this.releases.delete(token);
          json(200, { id: token, login: token })(response);
        };
        const timer = setTimeout(answer, SLOW_ANSWER_MS);
        this.timers.add(timer);
        this.releases.set(token, answer);
      });
    });
  }

  received(token: string, timeoutMs = 10_000): Promise<void> {
    if (this.arrived.has(token)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the webhook call for ${token} did not arrive`)), timeoutMs);
      this.arrivals.set(token, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Answers the held call for `token`. */
  release(token: string): void {
    this.releases.get(token)?.();
  }

  override async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await super.close();
  }
}

/** Resolves once a new TCP connection to `url` is refused; bounded in attempts and time. */
async function refusesConnections(url: string, timeoutMs = 10_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 500 && Date.now() < deadline; attempt += 1) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(Number(port), hostname);
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('graceful shutdown of a tessera process (SQLite)', () => {
  const idp = new SlowIdentityProvider();
  const dataDirs: string[] = [];
  const nodes: NodeProcess[] = [];

  beforeAll(() => idp.start());
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
    for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  afterAll(() => idp.close());

  /** A fresh node whose demo/chat accepts the `custom` strategy against the slow identity provider. */
  async function startShutdownNode(
    env: Record<string, string>,
  ): Promise<{ node: NodeProcess; api: Api; publishableKey: string }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-shutdown-'));
    dataDirs.push(dataDir);
    const node = await startNode({ databaseUrl: `sqlite://${join(dataDir, 'tessera.db')}`, dataDir, env });
    nodes.push(node);
    const api = makeApi(node.url);
    const { publishableKey, adminToken } = node.firstRun!;
    const custom = { enabled: true, url: `${idp.url}/verify`, timeoutMs: 10_000, autoProvision: true };
    const configured = await api('PATCH', `/v1/admin/apps/demo/chat`, {
      token: adminToken,
      body: { settings: { strategies: { custom } } },
    });
    expect(configured.status).toBe(200);
    return { node, api, publishableKey };
  }

  const customLogin = (api: Api, publishableKey: string, token: string) =>
    api<AuthenticationResult>('POST', `${APP}/authentication`, {
      key: publishableKey,
      body: { strategy: 'custom', token },
    });

  it('drains, closes sockets with server_shutdown, answers the login in flight, and exits 0', async () => {
    const { node, api, publishableKey } = await startShutdownNode({ TESSERA_SHUTDOWN_DRAIN_MS: String(DRAIN_MS) });
    const email = uniqueEmail('shutdown');
    expect(
      (await api('POST', `${APP}/users`, { key: publishableKey, body: { email, password: PASSWORD } })).status,
    ).toBe(201);
    const login = await api<AuthenticationResult>('POST', `${APP}/authentication`, {
      key: publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    const socket = await connectWithToken(node, login.body.accessToken);

    const slow = customLogin(api, publishableKey, 'slow-1');
    await idp.received('slow-1');
    node.child.kill('SIGTERM');

    // Draining: the balancer hears "not ready" while requests are still served.
    await node.waitForOutput('shutdown: draining');
    const ready = await api<{ error: { code: string } }>('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('server_shutdown');

    // Then the port closes and the socket is told to reconnect elsewhere, while the login still waits on its webhook.
    expect(await socket.waitClosed()).toEqual({ code: 4017, reason: 'server_shutdown', error: 'server_shutdown' });
    let slowAnswered = false;
    void slow.then(() => (slowAnswered = true));
    expect(await refusesConnections(node.url)).toBe(true);
    expect(slowAnswered).toBe(false);

    idp.release('slow-1');
    const answered = await slow;
    expect(answered.status).toBe(201);
    expect(answered.body.accessToken).toEqual(expect.any(String));
    expect(answered.body.reconnectToken).toEqual(expect.any(String));

    expect(await node.exited).toEqual({ code: 0, signal: null });
    const output = node.output();
    const steps = [
      'shutdown: signal received',
      'shutdown: draining',
      'shutdown: closing the port',
      'shutdown: port closed and requests in flight answered',
      'shutdown: database and cluster connections closed',
      'shutdown: complete',
    ];
    // In the order they happened, by each JSON line's time: two writes in the same millisecond may
    // reach the pipe in either order, so positions in the output would make the test flaky.
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { time: number; msg: string });
    const times = steps.map((step) => lines.find((line) => line.msg.startsWith(step))?.time);
    expect(
      times.every((time) => time !== undefined),
      output,
    ).toBe(true);
    expect(
      [...times].sort((a, b) => a! - b!),
      output,
    ).toEqual(times);
  });

  it('exits 1 once the shutdown timeout passes with a request still in flight', async () => {
    const timeoutMs = 1000;
    const { node, api, publishableKey } = await startShutdownNode({ TESSERA_SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
    const stuck = customLogin(api, publishableKey, 'never-1').catch((error: unknown) => error);
    await idp.received('never-1');

    const signalled = performance.now();
    node.child.kill('SIGTERM');
    const exit = await node.exited;
    const elapsed = performance.now() - signalled;

    // Ended by the shutdown timeout, not by the webhook's own 10 s one: that would have let the
    // shutdown finish (exit 0). Not before it either (timers count whole milliseconds). Issue 12: no
    // upper bound on the time, which a busy machine stretches.
    expect(exit.code).toBe(1);
    expect(node.output()).toContain('shutdown: not finished within the shutdown timeout');
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 10);
    await stuck;
  });

  it('exits at once on a second signal', async () => {
    const { node, api, publishableKey } = await startShutdownNode({ TESSERA_SHUTDOWN_TIMEOUT_MS: '60000' });
    const stuck = customLogin(api, publishableKey, 'never-2').catch((error: unknown) => error);
    await idp.received('never-2');

    node.child.kill('SIGTERM');
    await node.waitForOutput('shutdown: closing the port');
    node.child.kill('SIGINT');
    const exit = await node.exited;

    expect(exit.code).toBe(1);
    expect(node.output()).toContain('shutdown: second signal');
    await stuck;
  });
});
