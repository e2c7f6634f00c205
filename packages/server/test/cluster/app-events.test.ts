import type { AuthenticationResult, SessionEndedEvent, User } from '@tessera/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import { makeApi, type Api } from '../helpers/server.js';
import { SseStream } from '../helpers/sse.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';

// Issue 15, item 2: the app event stream across three real nodes on one PostgreSQL and one Redis.
// The periodic read is set to a minute, so an event that arrives in time came over the bus.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('the app event stream across three nodes (%s)', () => {
  let cluster: TestCluster;
  let apis: Api[];
  const open: SseStream[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, env: { TESSERA_EVENTS_POLL_INTERVAL_MS: '60000' } });
    apis = cluster.nodes.map((node) => makeApi(node.url));
  });
  afterEach(async () => {
    for (const stream of open.splice(0)) {
      stream.close();
      await stream.done;
    }
  });
  afterAll(() => cluster?.close());

  const subscribe = async (node: number, headers: Record<string, string> = {}) => {
    const opened = await SseStream.open(
      `${cluster.nodes[node]!.url}${APP}/events`,
      cluster.credentials.secretKey,
      headers,
    );
    if (opened.stream === undefined) throw new Error(`stream refused: ${opened.status} ${JSON.stringify(opened.body)}`);
    open.push(opened.stream);
    return { stream: opened.stream, ready: await opened.stream.ready() };
  };

  async function logInOn(api: Api): Promise<{ user: User; login: AuthenticationResult }> {
    const email = uniqueEmail('events');
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

  it('streams on node A, in sequence order, the logouts made on nodes B and C; a resume on C misses nothing', async () => {
    const { stream, ready } = await subscribe(0);
    const logins = [];
    for (let i = 0; i < 6; i += 1) logins.push(await logInOn(apis[1 + (i % 2)]!));
    // Logouts from both nodes at once: their order is the database's.
    await Promise.all(
      logins.map(async ({ login }, i) =>
        expect((await apis[1 + (i % 2)]!('DELETE', `${APP}/authentication`, { token: login.accessToken })).status).toBe(
          200,
        ),
      ),
    );
    const events: SessionEndedEvent[] = [];
    for (let i = 0; i < 6; i += 1) events.push((await stream.nextEvent()) as SessionEndedEvent);
    expect(events.map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5, 6].map((n) => ready.after + n));
    expect(new Set(events.map((event) => event.sessionIds[0]))).toEqual(
      new Set(logins.map(({ login }) => login.session.id)),
    );
    expect(events.every((event) => event.reason === 'logout')).toBe(true);

    const resumed = await subscribe(2, { 'last-event-id': String(events[2]!.sequence) });
    expect(resumed.ready).toMatchObject({ after: events[2]!.sequence, gap: false });
    const rest = [await resumed.stream.nextEvent(), await resumed.stream.nextEvent(), await resumed.stream.nextEvent()];
    expect(rest).toEqual(events.slice(3));
  });
});
