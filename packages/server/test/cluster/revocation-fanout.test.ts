import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import { connectWithToken } from '../helpers/realtime.js';
import { makeApi, type Api } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';

// Three real `tessera start` processes on one PostgreSQL schema and one Redis.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('a login and a logout across three nodes (%s)', () => {
  let cluster: TestCluster;
  let apis: Api[];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
    apis = cluster.nodes.map((node) => makeApi(node.url));
  });
  afterAll(() => cluster?.close());

  async function signUpAndLogInOn(api: Api): Promise<{ user: User; login: AuthenticationResult }> {
    const email = uniqueEmail('cluster');
    const signup = await api<User>('POST', `${APP}/users`, {
      key: cluster.credentials.publishableKey,
      body: { email, password: PASSWORD },
    });
    expect(signup.status).toBe(201);
    const login = await api<AuthenticationResult>('POST', `${APP}/authentication`, {
      key: cluster.credentials.publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    expect(login.status).toBe(201);
    return { user: signup.body, login: login.body };
  }

  it('uses on nodes B and C at once a session started on node A', async () => {
    const { user, login } = await signUpAndLogInOn(apis[0]!);
    for (const api of apis.slice(1)) {
      const me = await api<User>('GET', `${APP}/me`, { token: login.accessToken });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);
    }
  });

  it('closes the sockets held by nodes A and C when the session logs out on node B', async () => {
    const { login } = await signUpAndLogInOn(apis[0]!);
    const onA = await connectWithToken(cluster.nodes[0]!, login.accessToken);
    const onC = await connectWithToken(cluster.nodes[2]!, login.accessToken);
    // Each node has cached the session by now: the logout must reach those caches too.
    expect((await apis[0]!('GET', `${APP}/me`, { token: login.accessToken })).status).toBe(200);
    expect((await apis[2]!('GET', `${APP}/me`, { token: login.accessToken })).status).toBe(200);

    expect((await apis[1]!('DELETE', `${APP}/authentication`, { token: login.accessToken })).status).toBe(200);

    for (const socket of [onA, onC])
      expect(await socket.waitClosed()).toMatchObject({ error: 'session_revoked', reason: 'session_revoked:logout' });
    for (const api of apis) {
      const me = await api<{ error: { code: string } }>('GET', `${APP}/me`, { token: login.accessToken });
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('session_revoked');
    }
  });

  it('ends on every node at once the sessions of a user disabled through one node', async () => {
    const { user, login } = await signUpAndLogInOn(apis[1]!);
    const onC = await connectWithToken(cluster.nodes[2]!, login.accessToken);
    expect((await apis[0]!('GET', `${APP}/me`, { token: login.accessToken })).status).toBe(200);

    const disabled = await apis[1]!('PATCH', `${APP}/users/${user.id}`, {
      key: cluster.credentials.secretKey,
      body: { disabled: true },
    });
    expect(disabled.status).toBe(200);

    expect(await onC.waitClosed()).toMatchObject({ error: 'user_disabled' });
    const me = await apis[0]!<{ error: { code: string } }>('GET', `${APP}/me`, { token: login.accessToken });
    expect(me.body.error.code).toBe('user_disabled');
  });
});
