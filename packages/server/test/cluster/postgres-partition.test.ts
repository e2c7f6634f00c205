import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../helpers/backends.js';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import type { NodeProcess } from '../helpers/node-process.js';
import { expectUnavailable, waitUntilReady } from '../helpers/outage.js';
import { makeApi, type Api, type ApiResponse } from '../helpers/server.js';
import { endpointOf, TcpProxy } from '../helpers/tcp-proxy.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
/** Short deadlines, so that the test is quick; the bounds asserted are several times them. */
const CONNECT_MS = 1000;
const STATEMENT_MS = 1500;
const READINESS_MS = 300;
/** How long a node may take to notice PostgreSQL is back (its pool opens a new connection on the next query). */

// Issue 12: a PostgreSQL link that silently drops packets (a network partition, not a refused
// connection) must not hang requests or /readyz: they answer 503 unavailable within the configured
// deadlines, and the node recovers by itself once the link forwards again. One real `tessera
// start` process whose PostgreSQL link runs through a TCP relay that stops forwarding without
// closing anything.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('PostgreSQL silent behind a partition (%s)', () => {
  let link: TcpProxy;
  let cluster: TestCluster;
  let node: NodeProcess;
  let api: Api;

  beforeAll(async () => {
    link = new TcpProxy(() => [endpointOf(postgresUrl!)]);
    await link.start();
    cluster = await startCluster({
      nodes: 1,
      env: {
        TESSERA_DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_MS),
        TESSERA_DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS),
        TESSERA_READINESS_TIMEOUT_MS: String(READINESS_MS),
      },
      databaseUrlForNodes: (url) => {
        const throughLink = new URL(url);
        throughLink.host = `127.0.0.1:${link.port}`;
        return throughLink.toString();
      },
    });
    node = cluster.nodes[0]!;
    api = makeApi(node.url);
  }, 60_000);
  afterAll(async () => {
    link?.resume();
    await cluster?.close();
    await link?.close();
  });

  const key = () => cluster.credentials.publishableKey;
  const logIn = (email: string) =>
    api<AuthenticationResult>('POST', `${APP}/authentication`, {
      key: key(),
      body: { strategy: 'local', email, password: PASSWORD },
    });

  /** A call's answer and how long it took. */
  async function timed<T>(
    call: () => Promise<ApiResponse<T>>,
  ): Promise<{ response: ApiResponse<T>; elapsedMs: number }> {
    const started = performance.now();
    const response = await call();
    return { response, elapsedMs: performance.now() - started };
  }

  it('answers 503 unavailable within the deadlines, /readyz within its own, and recovers without a restart once packets flow again', async () => {
    const email = uniqueEmail('partition');
    expect((await api('POST', `${APP}/users`, { key: key(), body: { email, password: PASSWORD } })).status).toBe(201);
    // Tokens this node has never checked: no cached view of their sessions can answer for them.
    const unseen = [await logIn(email), await logIn(email)].map(({ body }) => body.accessToken);
    expect((await api('GET', '/readyz')).status).toBe(200);

    link.stall();
    try {
      // Twice: first on the pool's open connections, then on new ones that never finish connecting.
      for (const token of unseen) {
        const [login, signup, me, ready] = await Promise.all([
          timed(() => logIn(email)),
          timed(() =>
            api('POST', `${APP}/users`, { key: key(), body: { email: uniqueEmail('partition'), password: PASSWORD } }),
          ),
          timed(() => api('GET', `${APP}/me`, { token })),
          timed(() => api('GET', '/readyz')),
        ]);
        for (const { response, elapsedMs } of [login, signup, me]) {
          expectUnavailable(response);
          // A connection waited for, then a statement: both deadlines at most, with room for a loaded machine.
          expect(elapsedMs).toBeLessThan(3 * (CONNECT_MS + STATEMENT_MS));
        }
        expectUnavailable(ready.response);
        // /readyz does not wait for the statement deadline: a load balancer sees the 503 in time.
        expect(ready.elapsedMs).toBeLessThan(STATEMENT_MS);
        expect((await api('GET', '/healthz')).status).toBe(200);
      }
    } finally {
      link.resume();
    }

    await waitUntilReady(api, node);
    expect((await logIn(email)).status).toBe(201);
    for (const token of unseen) expect((await api('GET', `${APP}/me`, { token })).status).toBe(200);
    expect(node.child.exitCode).toBeNull();
  }, 60_000);
});
