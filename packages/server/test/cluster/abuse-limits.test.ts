import { randomBytes } from 'node:crypto';
import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { makeApi, startTestServer, type Api, type ApiResponse, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

// Issue 12, item 5: the abuse limits are counted in Redis, so every node of a cluster counts the same.

const APP = '/v1/apps/demo/chat';
const WINDOW = 600;

type Answer = { error?: { code: string } };

function expectRateLimited(response: ApiResponse<unknown>): void {
  expect(response.status, JSON.stringify(response.body)).toBe(429);
  expect(response.body).toMatchObject({ error: { code: 'rate_limited' } });
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(WINDOW);
}

describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('abuse limits shared by two nodes (%s, issue 12)', () => {
  let cluster: TestCluster;
  let nodes: Api[];

  beforeAll(async () => {
    // The tests play several client addresses with X-Forwarded-For.
    cluster = await startCluster({ nodes: 2, env: { TESSERA_TRUST_PROXY: 'true' } });
    nodes = cluster.nodes.map((node) => makeApi(node.url));
    // Redis expires counters by its own clock: windows long enough to outlast the test.
    const rateLimits = {
      signup: { perAddress: 2, window: WINDOW },
      reconnect: { perToken: 2, window: WINDOW },
      failedCredentials: { perAddress: 2, window: WINDOW },
    };
    const settings = { rateLimits, strategies: { anonymous: { enabled: true } } };
    expect(
      (
        await nodes[0]!('PATCH', '/v1/admin/apps/demo/chat', {
          token: cluster.credentials.adminToken,
          body: { settings },
        })
      ).status,
    ).toBe(200);
  }, 60_000);
  afterAll(() => cluster?.close());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const key = () => cluster.credentials.publishableKey;
  const signup = (node: Api, ip: string) =>
    node<Answer>('POST', `${APP}/users`, {
      key: key(),
      headers: from(ip),
      body: { email: uniqueEmail('cluster'), password: PASSWORD },
    });
  const login = (node: Api, ip: string, body: Record<string, unknown>) =>
    node<Answer & AuthenticationResult>('POST', `${APP}/authentication`, { key: key(), headers: from(ip), body });

  it('counts signups of one address on every node', async () => {
    expect((await signup(nodes[0]!, '10.20.0.1')).status).toBe(201);
    expect((await signup(nodes[1]!, '10.20.0.1')).status).toBe(201);
    expectRateLimited(await signup(nodes[0]!, '10.20.0.1'));
    expectRateLimited(await signup(nodes[1]!, '10.20.0.1'));
    expect((await signup(nodes[1]!, '10.20.0.2')).status).toBe(201);
  });

  it('counts presentations of one reconnect token on every node', async () => {
    const { reconnectToken } = (await login(nodes[0]!, '10.21.0.1', { strategy: 'anonymous' })).body;
    expect((await login(nodes[0]!, '10.21.0.2', { strategy: 'reconnect', token: reconnectToken })).status).toBe(201);
    // Its answer was lost, say: the client retries on the other node, within the grace period.
    expect((await login(nodes[1]!, '10.21.0.3', { strategy: 'reconnect', token: reconnectToken })).status).toBe(201);
    expectRateLimited(await login(nodes[0]!, '10.21.0.4', { strategy: 'reconnect', token: reconnectToken }));
  });

  it("counts an address's forged tokens on every node; the node that sees its next failure refuses it too", async () => {
    const genuine = (await login(nodes[0]!, '10.22.0.100', { strategy: 'anonymous' })).body.accessToken;
    const forged = `${genuine.slice(0, -4)}AAAA`;
    const me = (node: Api, token: string) => node<Answer>('GET', `${APP}/me`, { token, headers: from('10.22.0.1') });
    expect((await me(nodes[0]!, forged)).body.error?.code).toBe('invalid_token');
    expect((await me(nodes[0]!, forged)).body.error?.code).toBe('invalid_token');
    // Node 1 has seen nothing of this address yet: its first failure there is over the shared count.
    expectRateLimited(await me(nodes[1]!, forged));
    expectRateLimited(await me(nodes[1]!, genuine));
    // Node 0 learns of the refusal from the address's next failure there (a valid token costs no round trip to Redis).
    expect((await me(nodes[0]!, genuine)).status).toBe(200);
    expectRateLimited(await me(nodes[0]!, forged));
    expectRateLimited(await me(nodes[0]!, genuine));
    expect((await nodes[1]!('GET', `${APP}/me`, { token: genuine, headers: from('10.22.0.2') })).status).toBe(200);
  });
});

describe.each(clusterTestsEnabled ? ['redis'] : [])('abuse limits while %s is down (issue 12)', () => {
  let redis: PrivateRedis;
  let server: TestServer;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    server = await startTestServer(backends[0]!, {
      redisUrl: redis.url,
      redisKeyPrefix: `tessera-test:${randomBytes(6).toString('hex')}:`,
    });
    const settings = { rateLimits: { signup: { perAddress: 1, window: WINDOW } } };
    expect(
      (
        await server.api('PATCH', APP.replace('/v1/apps', '/v1/admin/apps'), {
          token: server.adminToken,
          body: { settings },
        })
      ).status,
    ).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await redis?.close();
  });

  const signup = () =>
    server.api<Answer>('POST', `${APP}/users`, {
      key: server.publishableKey,
      body: { email: uniqueEmail('outage'), password: PASSWORD },
    });

  it('are not counted, and refuse nothing: they protect capacity, and refusing would disconnect every user', async () => {
    expect((await signup()).status).toBe(201);
    expectRateLimited(await signup());
    await redis.stop(true);
    expect((await signup()).status).toBe(201);
    // A forged token is still refused for what it is.
    expect((await server.api<Answer>('GET', `${APP}/me`, { token: 'not.a.token' })).body.error?.code).toBe(
      'invalid_token',
    );
  });
});
