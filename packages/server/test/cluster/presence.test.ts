import type { AuthenticationResult, PresenceEntry, PresenceJoinFrame, PresenceLeaveFrame, PresenceStateFrame, ServerFrame, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import type { NodeProcess } from '../helpers/node-process.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { connectWithToken, type TestClient } from '../helpers/realtime.js';
import { makeApi } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
/** Nodes beat every 200 ms; one not heard for 5 beats (1 s) is dropped. */
const HEARTBEAT_MS = 200;
const MISSED_BEATS = 5;
const NODE_TIMEOUT_MS = HEARTBEAT_MS * MISSED_BEATS;
/** Generous: two cores, other suites running at once. */
const WAIT_MS = 15_000;

const isJoin = (sessionId: string) => (frame: ServerFrame) => frame.type === 'presence.join' && frame.sessionId === sessionId;
const isLeave = (sessionId: string) => (frame: ServerFrame) => frame.type === 'presence.leave' && frame.sessionId === sessionId;

/** Polls `read` until `accept` holds, for at most WAIT_MS: for state that has no event to wait on. */
async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (let attempt = 0; ; attempt += 1) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline || attempt > 1000) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Issue 6: presence seen from any node is the whole cluster's. Real `tessera start` processes on
// one PostgreSQL schema and one Redis.
const clusterEnv = { TESSERA_REALTIME_PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS), TESSERA_REALTIME_PRESENCE_MISSED_BEATS: String(MISSED_BEATS) };

async function logInOn(cluster: TestCluster, node: NodeProcess): Promise<{ user: User; login: AuthenticationResult }> {
  const api = makeApi(node.url);
  const email = uniqueEmail('presence');
  const signup = await api<User>('POST', `${APP}/users`, { key: cluster.credentials.publishableKey, body: { email, password: PASSWORD } });
  expect(signup.status).toBe(201);
  const login = await api<AuthenticationResult>('POST', `${APP}/authentication`, { key: cluster.credentials.publishableKey, body: { strategy: 'local', email, password: PASSWORD } });
  expect(login.status).toBe(201);
  return { user: signup.body, login: login.body };
}

describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('presence across nodes (%s)', () => {
  let cluster: TestCluster;
  let nodeA: NodeProcess;
  let nodeB: NodeProcess;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, env: clusterEnv });
    [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
  }, 60_000);
  afterAll(() => cluster?.close());

  const logIn = (node: NodeProcess) => logInOn(cluster, node);

  /** A connection of a user of its own that follows presence on `node`. */
  async function watcherOn(node: NodeProcess, userIds?: string[]): Promise<TestClient> {
    const { login } = await logIn(node);
    const client = await connectWithToken(node, login.accessToken);
    await client.request<PresenceStateFrame>({ type: 'presence.subscribe', ...(userIds === undefined ? {} : { userIds }) });
    return client;
  }

  async function entryOf(client: TestClient, userId: string): Promise<PresenceEntry | undefined> {
    const state = await client.request<PresenceStateFrame>({ type: 'presence.query', userIds: [userId] });
    return state.users[0];
  }

  it('shows on node B a user connected on node A, with join and leave frames and the counts of both nodes', async () => {
    const watcher = await watcherOn(nodeB);
    const { user, login } = await logIn(nodeA);
    const onA = await connectWithToken(nodeA, login.accessToken);
    const join = await watcher.find<PresenceJoinFrame>(isJoin(login.session.id));
    expect(join.entry).toMatchObject({ userId: user.id, kind: 'registered', connections: 1, sessions: [{ sessionId: login.session.id, connections: 1 }] });
    expect(await entryOf(watcher, user.id)).toMatchObject({ userId: user.id, connections: 1 });

    // A second connection of the session, on B: no second join; the counts add up.
    const onB = await connectWithToken(nodeB, login.accessToken);
    await eventually(() => entryOf(watcher, user.id), (entry) => entry?.connections === 2, 'both connections on B');
    const asSeenOnA = await connectWithToken(nodeA, (await logIn(nodeA)).login.accessToken);
    expect(await eventually(() => entryOf(asSeenOnA, user.id), (entry) => entry?.connections === 2, 'both connections on A')).toMatchObject({ sessions: [{ sessionId: login.session.id, connections: 2 }] });

    // The session leaves once no node holds it.
    await onA.close();
    await eventually(() => entryOf(watcher, user.id), (entry) => entry?.connections === 1, 'the close on A to reach B');
    expect(watcher.frames.some(isLeave(login.session.id))).toBe(false);
    await onB.close();
    expect(await watcher.find<PresenceLeaveFrame>(isLeave(login.session.id))).toEqual({ type: 'presence.leave', userId: user.id, sessionId: login.session.id, entry: null });
    expect(watcher.frames.filter(isJoin(login.session.id))).toHaveLength(1);
    await eventually(() => entryOf(asSeenOnA, user.id), (entry) => entry === undefined, 'the user to leave on A');
    await Promise.all([watcher.close(), asSeenOnA.close()]);
  });

  it('ends an anonymous user connected on two nodes only when its last connection in the cluster closes', async () => {
    const adminApi = makeApi(nodeA.url);
    const enabled = await adminApi('PATCH', '/v1/admin/apps/demo/chat', { token: cluster.credentials.adminToken, body: { settings: { strategies: { anonymous: { enabled: true } } } } });
    expect(enabled.status).toBe(200);
    const anonymous = await adminApi<AuthenticationResult>('POST', `${APP}/authentication`, { key: cluster.credentials.publishableKey, body: { strategy: 'anonymous', displayName: 'Visitor' } });
    expect(anonymous.status).toBe(201);
    const { accessToken, user } = anonymous.body;
    const onA = await connectWithToken(nodeA, accessToken);
    const onB = await connectWithToken(nodeB, accessToken);
    const watcherA = await watcherOn(nodeA, [user.id]);
    const watcherB = await watcherOn(nodeB, [user.id]);
    await eventually(() => entryOf(watcherA, user.id), (entry) => entry?.connections === 2, 'both connections on A');
    await eventually(() => entryOf(watcherB, user.id), (entry) => entry?.connections === 2, 'both connections on B');
    // No wait for the nodes' views to be complete: a node whose view is not complete yet (it
    // joined moments ago, or its link came back) ends the user once it is, if still offline.

    await onA.close();
    await eventually(() => entryOf(watcherB, user.id), (entry) => entry?.connections === 1, 'the close on A to reach B');
    const me = (token: string) => makeApi(nodeA.url)<{ error?: { code: string } }>('GET', `${APP}/me`, { token });
    expect((await me(accessToken)).status).toBe(200);
    expect(await onB.request({ type: 'ping' })).toMatchObject({ type: 'pong' });

    await onB.close();
    const ended = await eventually(() => me(accessToken), (answer) => answer.status === 401, 'the anonymous user to end');
    expect(ended.body.error?.code).toBe('user_ended');
    await Promise.all([watcherA.close(), watcherB.close()]);
  });

  it('shows a node started later the users already online on the others', async () => {
    const { user, login } = await logIn(nodeA);
    const onA = await connectWithToken(nodeA, login.accessToken);
    const nodeC = await cluster.addNode();
    const onC = await connectWithToken(nodeC, (await logIn(nodeC)).login.accessToken);
    expect(await eventually(() => entryOf(onC, user.id), (entry) => entry !== undefined, 'the user online on A to show on C')).toMatchObject({
      userId: user.id,
      connections: 1,
      sessions: [{ sessionId: login.session.id, connections: 1 }],
    });
    await Promise.all([onA.close(), onC.close()]);
    await nodeC.stop();
  });

  it('drops the users of a node that stops at once, without waiting for its heartbeat deadline', async () => {
    const nodeD = await cluster.addNode();
    const watcher = await watcherOn(nodeA);
    const { login } = await logIn(nodeD);
    await connectWithToken(nodeD, login.accessToken);
    await watcher.find(isJoin(login.session.id));
    await nodeD.stop();
    await watcher.find(isLeave(login.session.id));
    // Dropped on its 'leaving', not at a deadline: node A never logged one.
    expect(nodeA.output()).not.toContain('was not heard from');
    await watcher.close();
  });

  it('drops the users of a killed node once it has not been heard from for the heartbeat timeout', async () => {
    const nodeE = await cluster.addNode();
    const watcher = await watcherOn(nodeB);
    const { user, login } = await logIn(nodeE);
    const onE = await connectWithToken(nodeE, login.accessToken);
    await watcher.find(isJoin(login.session.id));

    nodeE.child.kill('SIGKILL');
    await nodeE.exited;
    const killedAt = Date.now();
    expect(await watcher.find<PresenceLeaveFrame>(isLeave(login.session.id))).toMatchObject({ userId: user.id, entry: null });
    // Within the timeout, plus the time a heartbeat check can take to come round on a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(NODE_TIMEOUT_MS + 4_000);
    await nodeB.waitForOutput('was not heard from');
    expect(await entryOf(watcher, user.id)).toBeUndefined();
    await onE.waitClosed();
    await watcher.close();
  });
});

describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('an anonymous user let go before a node sees the whole cluster (%s)', () => {
  /** Beats of 1 s, 8 of them: a node's view is complete 8 s after it starts, time enough to connect and close before. */
  const SLOW_BEATS = { TESSERA_REALTIME_PRESENCE_HEARTBEAT_MS: '1000', TESSERA_REALTIME_PRESENCE_MISSED_BEATS: '8' };
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, env: SLOW_BEATS });
  }, 60_000);
  afterAll(() => cluster?.close());

  it('is not ended while the view may be incomplete, and is ended once it is complete and the user still offline', async () => {
    const nodeA = cluster.nodes[0]!;
    const api = makeApi(nodeA.url);
    expect((await api('PATCH', '/v1/admin/apps/demo/chat', { token: cluster.credentials.adminToken, body: { settings: { strategies: { anonymous: { enabled: true } } } } })).status).toBe(200);
    const anonymous = await api<AuthenticationResult>('POST', `${APP}/authentication`, { key: cluster.credentials.publishableKey, body: { strategy: 'anonymous', displayName: 'Early' } });
    expect(anonymous.status).toBe(201);
    const onA = await connectWithToken(nodeA, anonymous.body.accessToken);
    await onA.close();
    // Node A lets the user go without ending it: node B might hold a connection A has not heard of.
    const me = () => api<{ error?: { code: string } }>('GET', `${APP}/me`, { token: anonymous.body.accessToken });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await me()).status).toBe(200);
    // Once A's view is complete, the user is offline everywhere, and A ends it.
    const ended = await eventually(me, (answer) => answer.status === 401, 'the anonymous user to end');
    expect(ended.body.error?.code).toBe('user_ended');
  });
});

describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('presence while Redis is down (%s)', () => {
  let redis: PrivateRedis;
  let cluster: TestCluster;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    cluster = await startCluster({ nodes: 2, redisUrl: redis.url, env: clusterEnv });
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
    await redis?.close();
  });

  it("shows each node its own users only once the others' heartbeat deadline has passed, and the whole cluster again when Redis is back", async () => {
    const [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
    const onA = await logInOn(cluster, nodeA);
    const onB = await logInOn(cluster, nodeB);
    const clientA = await connectWithToken(nodeA, onA.login.accessToken);
    const watcherB = await connectWithToken(nodeB, onB.login.accessToken);
    await watcherB.request({ type: 'presence.subscribe' });
    const online = (state: PresenceStateFrame) => state.users.map((entry) => entry.userId).sort();
    const both = [onA.user.id, onB.user.id].sort();
    await eventually(() => watcherB.request<PresenceStateFrame>({ type: 'presence.query' }), (state) => online(state).join() === both.join(), 'both users on B');

    await redis.stop(true);
    // B keeps A's users until A's deadline, then drops them; its own stay.
    await watcherB.find(isLeave(onA.login.session.id));
    expect(online(await watcherB.request<PresenceStateFrame>({ type: 'presence.query' }))).toEqual([onB.user.id]);

    await redis.restart();
    const rejoined = await watcherB.find<PresenceJoinFrame>((frame) => frame.type === 'presence.join' && frame.sessionId === onA.login.session.id && watcherB.frames.indexOf(frame) > watcherB.frames.findIndex(isLeave(onA.login.session.id)));
    expect(rejoined.entry).toMatchObject({ userId: onA.user.id, connections: 1 });
    expect(clientA.isOpen).toBe(true);
    await Promise.all([clientA.close(), watcherB.close()]);
  });
});
