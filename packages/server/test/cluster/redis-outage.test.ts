import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { connectWithToken, withTimeout } from '../helpers/realtime.js';
import { makeApi, type Api } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
/** How often a node whose link is down re-reads its sockets' sessions; short, so the test waits little. */
const RECHECK_MS = 300;

interface ErrorBody {
  error: { code: string };
}

// Two real nodes on PostgreSQL and a redis-server of this test's own, stopped and started again.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('Redis stopped and restarted under two nodes (%s)', () => {
  let redis: PrivateRedis;
  let cluster: TestCluster;
  let a: Api;
  let b: Api;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    cluster = await startCluster({
      nodes: 2,
      redisUrl: redis.url,
      env: { TESSERA_REALTIME_LINK_DOWN_RECHECK_MS: String(RECHECK_MS) },
    });
    [a, b] = cluster.nodes.map((node) => makeApi(node.url)) as [Api, Api];
  });
  afterAll(async () => {
    await cluster?.close();
    await redis?.close();
  });

  async function signUp(api: Api): Promise<{ user: User; email: string }> {
    const email = uniqueEmail('outage');
    const response = await api<User>('POST', `${APP}/users`, {
      key: cluster.credentials.publishableKey,
      body: { email, password: PASSWORD },
    });
    expect(response.status).toBe(201);
    return { user: response.body, email };
  }

  async function logIn(api: Api, email: string) {
    return api<AuthenticationResult & ErrorBody>('POST', `${APP}/authentication`, {
      key: cluster.credentials.publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
  }

  /** Resolves once every node has logged that its link to Redis is `state`, from `since` on in its output. */
  async function linksAre(state: 'up' | 'down', since: number[]): Promise<void> {
    await Promise.all(
      cluster.nodes.map((node, index) =>
        withTimeout(
          (async () => {
            while (!node.output().slice(since[index]).includes(`cluster link to Redis is ${state}`))
              await new Promise((resolve) => setTimeout(resolve, 25));
          })(),
          15_000,
          `the link of node ${index} to be ${state}`,
        ),
      ),
    );
  }

  it('accepts no revoked session while Redis is down, refuses password logins with 503, and recovers by itself', async () => {
    const { email } = await signUp(a);
    const first = await logIn(a, email);
    expect(first.status).toBe(201);
    const { accessToken } = first.body;
    const socketOnA = await connectWithToken(cluster.nodes[0]!, accessToken);
    // Both nodes have the session in their caches.
    expect((await a('GET', `${APP}/me`, { token: accessToken })).status).toBe(200);
    expect((await b('GET', `${APP}/me`, { token: accessToken })).status).toBe(200);

    let marks = cluster.nodes.map((node) => node.output().length);
    await redis.stop(true);
    await linksAre('down', marks);

    // The logout is written to the database; the message to node A cannot be sent.
    expect((await b('DELETE', `${APP}/authentication`, { token: accessToken })).status).toBe(200);
    // Node A does not trust its cache while it may be missing messages: it reads the database.
    const me = await a<ErrorBody>('GET', `${APP}/me`, { token: accessToken });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('session_revoked');
    // Its socket closes at a re-check of the sessions it holds (every RECHECK_MS; the wait is generous for a busy machine).
    expect(await socketOnA.waitClosed()).toMatchObject({ error: 'session_revoked', reason: 'session_revoked:logout' });

    // Without the shared counters, password logins cannot be throttled: they are refused, and say when to retry.
    const refused = await logIn(b, email);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body).not.toHaveProperty('accessToken');

    marks = cluster.nodes.map((node) => node.output().length);
    await redis.restart();
    await linksAre('up', marks);

    // Logins work again on the same processes, and a logout on B reaches a socket on A again.
    const again = await logIn(b, email);
    expect(again.status).toBe(201);
    const socket = await connectWithToken(cluster.nodes[0]!, again.body.accessToken);
    expect((await a('GET', `${APP}/me`, { token: again.body.accessToken })).status).toBe(200);
    expect((await b('DELETE', `${APP}/authentication`, { token: again.body.accessToken })).status).toBe(200);
    expect(await socket.waitClosed()).toMatchObject({ error: 'session_revoked' });
    expect((await a<ErrorBody>('GET', `${APP}/me`, { token: again.body.accessToken })).body.error.code).toBe(
      'session_revoked',
    );
  });
});
