import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import { makeApi, type Api } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';

interface Answer {
  error?: { code: string };
}

// Three real nodes: brute-force counters, reconnect tokens and API keys are one truth for all of them.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('state shared by three nodes (%s)', () => {
  let cluster: TestCluster;
  let apis: Api[];

  beforeAll(async () => {
    // Behind the balancer the caller's address comes from X-Forwarded-For, which lets the test play several clients.
    cluster = await startCluster({ nodes: 3, env: { TESSERA_TRUST_PROXY: 'true' } });
    apis = cluster.nodes.map((node) => makeApi(node.url));
    // Waits long enough to outlast the test, so that what is locked stays locked while it looks.
    const settings = { loginThrottle: { accountMaxFailures: 4, ipMaxFailures: 6, baseDelay: 120 } };
    expect(
      (
        await apis[0]!('PATCH', '/v1/admin/apps/demo/chat', {
          token: cluster.credentials.adminToken,
          body: { settings },
        })
      ).status,
    ).toBe(200);
  });
  afterAll(() => cluster?.close());

  const key = () => cluster.credentials.publishableKey;

  async function signUp(api: Api): Promise<{ user: User; email: string }> {
    const email = uniqueEmail('shared');
    const response = await api<User>('POST', `${APP}/users`, { key: key(), body: { email, password: PASSWORD } });
    expect(response.status).toBe(201);
    return { user: response.body, email };
  }

  const attempt = (api: Api, email: string, password: string, ip: string) =>
    api<Answer & Partial<AuthenticationResult>>('POST', `${APP}/authentication`, {
      key: key(),
      body: { strategy: 'local', email, password },
      headers: { 'x-forwarded-for': ip },
    });

  it('counts wrong passwords for an account across nodes, and the lock survives a node restart', async () => {
    const { email } = await signUp(apis[0]!);
    // Four guesses, spread over the three nodes and four addresses.
    for (let guess = 0; guess < 4; guess += 1) {
      expect((await attempt(apis[guess % 3]!, email, `guess ${guess}`, `10.1.0.${guess}`)).body.error?.code).toBe(
        'invalid_credentials',
      );
    }
    for (const api of apis) {
      const locked = await attempt(api, email, PASSWORD, '10.1.1.1');
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(60);
    }
    // A node restarts: the counters were never in its memory.
    await cluster.nodes[1]!.stop();
    const restarted = await cluster.addNode();
    const locked = await attempt(makeApi(restarted.url), email, PASSWORD, '10.1.1.2');
    expect(locked.status).toBe(429);
    expect(locked.body.error?.code).toBe('rate_limited');
    apis[1] = makeApi(restarted.url);
  });

  it('counts wrong passwords from one address across nodes and accounts', async () => {
    const victims = await Promise.all([0, 1, 2].map(() => signUp(apis[0]!)));
    // Six failures from one address, two per account (under the account limit), one node after another.
    for (let guess = 0; guess < 6; guess += 1) {
      expect((await attempt(apis[guess % 3]!, victims[guess % 3]!.email, 'wrong', '10.2.0.1')).body.error?.code).toBe(
        'invalid_credentials',
      );
    }
    const blocked = await attempt(apis[2]!, victims[0]!.email, PASSWORD, '10.2.0.1');
    expect(blocked.status).toBe(429);
    // Another address is not affected.
    expect((await attempt(apis[1]!, victims[0]!.email, PASSWORD, '10.2.0.2')).status).toBe(201);
  });

  it('spends a reconnect token once, whichever nodes it is presented to at the same moment', async () => {
    // Without the grace period, a second use is theft, never a lost answer.
    expect(
      (
        await apis[0]!('PATCH', '/v1/admin/apps/demo/chat', {
          token: cluster.credentials.adminToken,
          body: { settings: { reconnectGracePeriod: 0 } },
        })
      ).status,
    ).toBe(200);
    const { email } = await signUp(apis[0]!);
    const login = await attempt(apis[0]!, email, PASSWORD, '10.3.0.1');
    expect(login.status).toBe(201);
    const redeem = (api: Api) =>
      api<Answer & Partial<AuthenticationResult>>('POST', `${APP}/authentication`, {
        key: key(),
        body: { strategy: 'reconnect', token: login.body.reconnectToken },
      });
    const answers = await Promise.all([...apis, ...apis].map(redeem));
    const winners = answers.filter((answer) => answer.status === 201);
    expect(winners).toHaveLength(1);
    // Every other presentation is a reuse: the session ends, the winner's new tokens with it.
    for (const answer of answers.filter((candidate) => candidate.status !== 201))
      expect(answer.body.error?.code).toMatch(/^(reconnect_token_reused|session_revoked)$/);
    for (const api of apis) {
      const me = await api<Answer>('GET', `${APP}/me`, { token: winners[0]!.body.accessToken });
      expect(me.body.error?.code).toBe('session_revoked');
    }
  });

  it('refuses a revoked API key on every node at once', async () => {
    const created = await apis[0]!<{ key: string; id: string }>('POST', '/v1/admin/apps/demo/chat/keys', {
      token: cluster.credentials.adminToken,
      body: { kind: 'publishable' },
    });
    expect(created.status).toBe(201);
    const { email } = await signUp(apis[0]!);
    const logIn = (api: Api) =>
      api<Answer>('POST', `${APP}/authentication`, {
        key: created.body.key,
        body: { strategy: 'local', email, password: PASSWORD },
        headers: { 'x-forwarded-for': '10.4.0.1' },
      });
    // Every node has the key in its cache now.
    for (const api of apis) expect((await logIn(api)).status).toBe(201);
    expect(
      (
        await apis[2]!('DELETE', `/v1/admin/apps/demo/chat/keys/${created.body.id}`, {
          token: cluster.credentials.adminToken,
        })
      ).status,
    ).toBe(204);
    for (const api of apis) {
      const refused = await logIn(api);
      expect(refused.status).toBe(401);
      expect(refused.body.error?.code).toBe('invalid_api_key');
    }
  });
});
