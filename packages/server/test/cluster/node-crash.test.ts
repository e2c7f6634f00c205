import type { AuthenticatedFrame, AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import { connect, connectWithToken } from '../helpers/realtime.js';
import { makeApi, type Api } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';

// Three real nodes behind a TCP load balancer; one of them is killed with SIGKILL.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('a node killed with SIGKILL (%s)', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  });
  afterAll(() => cluster?.close());

  async function logInOn(api: Api): Promise<{ user: User; login: AuthenticationResult }> {
    const email = uniqueEmail('crash');
    const key = cluster.credentials.publishableKey;
    const signup = await api<User>('POST', `${APP}/users`, { key, body: { email, password: PASSWORD } });
    const login = await api<AuthenticationResult>('POST', `${APP}/authentication`, {
      key,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    expect([signup.status, login.status]).toEqual([201, 201]);
    return { user: signup.body, login: login.body };
  }

  it('leaves the other nodes serving, and its clients resume their sessions elsewhere with their reconnect tokens', async () => {
    const apis = cluster.nodes.map((node) => makeApi(node.url));
    const crashing = await logInOn(apis[0]!);
    // REST goes to the nodes directly; only the sockets go through the balancer, so its open connections are theirs.
    const socket = await connectWithToken(cluster.balancer, crashing.login.accessToken);
    const [victimPort] = [...cluster.balancer.openConnectionsByUpstream().keys()];
    const victim = cluster.nodes.find((node) => new URL(node.url).port === String(victimPort))!;
    const survivors = cluster.nodes.filter((node) => node !== victim);
    const bystander = await logInOn(makeApi(survivors[0]!.url));
    const bystanderSocket = await connectWithToken(survivors[0]!, bystander.login.accessToken);

    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    // No close frame from a killed process: the client sees the connection drop (1006) and may reconnect.
    expect((await socket.waitClosed()).code).toBe(1006);

    // The client reconnects through the balancer, which now reaches a surviving node, with its reconnect token.
    const again = await connect(cluster.balancer, { key: cluster.credentials.publishableKey });
    const resumed = await again.request<AuthenticatedFrame>({
      type: 'authenticate',
      strategy: 'reconnect',
      token: crashing.login.reconnectToken,
    });
    expect(resumed).toMatchObject({
      type: 'authenticated',
      user: { id: crashing.user.id },
      session: { id: crashing.login.session.id },
    });
    const resumedPort = [...cluster.balancer.openConnectionsByUpstream().keys()];
    expect(resumedPort).not.toContain(victimPort);
    // The new tokens work on every surviving node.
    for (const node of survivors)
      expect((await makeApi(node.url)('GET', `${APP}/me`, { token: resumed.accessToken! })).status).toBe(200);

    // The other nodes' clients never noticed.
    expect(bystanderSocket.isOpen).toBe(true);
    expect((await makeApi(survivors[1]!.url)('GET', `${APP}/me`, { token: bystander.login.accessToken })).status).toBe(
      200,
    );
    // A logout on one survivor still closes a socket on the other: the bus works without the dead node.
    expect(
      (await makeApi(survivors[1]!.url)('DELETE', `${APP}/authentication`, { token: bystander.login.accessToken }))
        .status,
    ).toBe(200);
    expect(await bystanderSocket.waitClosed()).toMatchObject({ error: 'session_revoked' });
    await again.close();
  });
});
