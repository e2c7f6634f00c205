import type {
  AuthenticationResult,
  PresenceEntry,
  PresenceJoinFrame,
  PresenceLeaveFrame,
  PresenceStateFrame,
  ServerFrame,
  User,
} from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import type { NodeProcess } from '../helpers/node-process.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { connectWithToken, type TestClient } from '../helpers/realtime.js';
import { makeApi } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';

/**
 * Issue 12: real processes on a busy machine stall, at times for seconds, and a node not heard
 * from within its deadline is dropped for real (its users leave, anonymous users may end). So the
 * tests that are not about the deadline run on nodes whose deadline no stall reaches, and those
 * about it wait for what proves it (the leave, the node's log line) instead of timing it.
 */
const presenceBeats = (heartbeatMs: number, missedBeats: number) => ({
  TESSERA_REALTIME_PRESENCE_HEARTBEAT_MS: String(heartbeatMs),
  TESSERA_REALTIME_PRESENCE_MISSED_BEATS: String(missedBeats),
});
/** Beats every second; a node is dropped after 100 silent ones: never within a test. */
const STEADY = presenceBeats(1000, 100);
/** A node is dropped after 8 s of silence (and a node's view is complete 8 s after it starts or its link comes back). */
const DEADLINE_MS = 8000;
const WITH_DEADLINE = presenceBeats(500, DEADLINE_MS / 500);
/** Generous: two cores, other suites running at once. */
const WAIT_MS = 15_000;

const isJoin = (sessionId: string) => (frame: ServerFrame) =>
  frame.type === 'presence.join' && frame.sessionId === sessionId;
const isLeave = (sessionId: string) => (frame: ServerFrame) =>
  frame.type === 'presence.leave' && frame.sessionId === sessionId;
/** Matches frames that `client` received at position `since` or later. */
const after = (client: TestClient, since: number, match: (frame: ServerFrame) => boolean) => (frame: ServerFrame) =>
  match(frame) && client.frames.indexOf(frame) >= since;

/** Polls `read` until `accept` holds, for at most `waitMs`: for state that has no event to wait on. */
async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  waitMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt += 1) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline || attempt > 1000)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Issue 6: presence seen from any node is the whole cluster's. Real `tessera start` processes on
// one PostgreSQL schema and one Redis.

async function logInOn(cluster: TestCluster, node: NodeProcess): Promise<{ user: User; login: AuthenticationResult }> {
  const api = makeApi(node.url);
  const email = uniqueEmail('presence');
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

/** A connection of a user of its own that follows presence on `node`. */
async function watcherOn(cluster: TestCluster, node: NodeProcess, userIds?: string[]): Promise<TestClient> {
  const { login } = await logInOn(cluster, node);
  const client = await connectWithToken(node, login.accessToken);
  await client.request<PresenceStateFrame>({
    type: 'presence.subscribe',
    ...(userIds === undefined ? {} : { userIds }),
  });
  return client;
}

async function entryOf(client: TestClient, userId: string): Promise<PresenceEntry | undefined> {
  const state = await client.request<PresenceStateFrame>({ type: 'presence.query', userIds: [userId] });
  return state.users[0];
}

async function enableAnonymous(cluster: TestCluster, node: NodeProcess): Promise<void> {
  const enabled = await makeApi(node.url)('PATCH', '/v1/admin/apps/demo/chat', {
    token: cluster.credentials.adminToken,
    body: { settings: { strategies: { anonymous: { enabled: true } } } },
  });
  expect(enabled.status).toBe(200);
}

async function anonymousLogin(cluster: TestCluster, node: NodeProcess): Promise<AuthenticationResult> {
  const anonymous = await makeApi(node.url)<AuthenticationResult>('POST', `${APP}/authentication`, {
    key: cluster.credentials.publishableKey,
    body: { strategy: 'anonymous', displayName: 'Visitor' },
  });
  expect(anonymous.status).toBe(201);
  return anonymous.body;
}

const me = (node: NodeProcess, token: string) =>
  makeApi(node.url)<{ error?: { code: string } }>('GET', `${APP}/me`, { token });

describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('presence across nodes (%s)', () => {
  let cluster: TestCluster;
  let nodeA: NodeProcess;
  let nodeB: NodeProcess;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, env: STEADY });
    [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
  });
  afterAll(() => cluster?.close());

  const logIn = (node: NodeProcess) => logInOn(cluster, node);

  it('shows on node B a user connected on node A, with join and leave frames and the counts of both nodes', async () => {
    const watcher = await watcherOn(cluster, nodeB);
    const { user, login } = await logIn(nodeA);
    const onA = await connectWithToken(nodeA, login.accessToken);
    const join = await watcher.find<PresenceJoinFrame>(isJoin(login.session.id));
    expect(join.entry).toMatchObject({
      userId: user.id,
      kind: 'registered',
      connections: 1,
      sessions: [{ sessionId: login.session.id, connections: 1 }],
    });
    expect(await entryOf(watcher, user.id)).toMatchObject({ userId: user.id, connections: 1 });

    // A second connection of the session, on B: no second join; the counts add up.
    const onB = await connectWithToken(nodeB, login.accessToken);
    await eventually(
      () => entryOf(watcher, user.id),
      (entry) => entry?.connections === 2,
      'both connections on B',
    );
    const asSeenOnA = await connectWithToken(nodeA, (await logIn(nodeA)).login.accessToken);
    expect(
      await eventually(
        () => entryOf(asSeenOnA, user.id),
        (entry) => entry?.connections === 2,
        'both connections on A',
      ),
    ).toMatchObject({ sessions: [{ sessionId: login.session.id, connections: 2 }] });

    // The session leaves once no node holds it.
    await onA.close();
    await eventually(
      () => entryOf(watcher, user.id),
      (entry) => entry?.connections === 1,
      'the close on A to reach B',
    );
    expect(watcher.frames.some(isLeave(login.session.id))).toBe(false);
    await onB.close();
    expect(await watcher.find<PresenceLeaveFrame>(isLeave(login.session.id))).toEqual({
      type: 'presence.leave',
      userId: user.id,
      sessionId: login.session.id,
      entry: null,
    });
    expect(watcher.frames.filter(isJoin(login.session.id))).toHaveLength(1);
    await eventually(
      () => entryOf(asSeenOnA, user.id),
      (entry) => entry === undefined,
      'the user to leave on A',
    );
    await Promise.all([watcher.close(), asSeenOnA.close()]);
  });

  it('shows a node started later the users already online on the others', async () => {
    const { user, login } = await logIn(nodeA);
    const onA = await connectWithToken(nodeA, login.accessToken);
    const nodeC = await cluster.addNode();
    const onC = await connectWithToken(nodeC, (await logIn(nodeC)).login.accessToken);
    expect(
      await eventually(
        () => entryOf(onC, user.id),
        (entry) => entry !== undefined,
        'the user online on A to show on C',
      ),
    ).toMatchObject({
      userId: user.id,
      connections: 1,
      sessions: [{ sessionId: login.session.id, connections: 1 }],
    });
    await Promise.all([onA.close(), onC.close()]);
    await nodeC.stop();
  });

  it('drops the users of a node that stops at once, without waiting for its heartbeat deadline', async () => {
    const nodeD = await cluster.addNode();
    const watcher = await watcherOn(cluster, nodeA);
    const { login } = await logIn(nodeD);
    await connectWithToken(nodeD, login.accessToken);
    await watcher.find(isJoin(login.session.id));
    await nodeD.stop();
    // The deadline is 100 s away: a leave within the wait comes from the node's 'leaving'.
    await watcher.find(isLeave(login.session.id));
    expect(nodeA.output()).not.toContain('was not heard from');
    await watcher.close();
  });
});

// A redis-server of these tests' own, which they stop and start again.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])(
  'presence across nodes, at the heartbeat deadline and while Redis is down (%s)',
  () => {
    let redis: PrivateRedis;
    let cluster: TestCluster;
    let nodeA: NodeProcess;
    let nodeB: NodeProcess;

    beforeAll(async () => {
      redis = await PrivateRedis.start();
      cluster = await startCluster({ nodes: 2, redisUrl: redis.url, env: WITH_DEADLINE });
      [nodeA, nodeB] = cluster.nodes as [NodeProcess, NodeProcess];
    });
    afterAll(async () => {
      await cluster?.close();
      await redis?.close();
    });

    /** Stops or restarts Redis, and waits until nodes A and B have noticed. */
    async function setRedis(state: 'down' | 'up'): Promise<void> {
      const nodes = [nodeA, nodeB];
      const marks = nodes.map((node) => node.output().length);
      await (state === 'down' ? redis.stop(true) : redis.restart());
      await Promise.all(
        nodes.map((node, index) => node.waitForOutput(`cluster link to Redis is ${state}`, undefined, marks[index])),
      );
    }

    it('ends an anonymous user connected on two nodes only when its last connection in the cluster closes', async () => {
      await enableAnonymous(cluster, nodeA);
      const { accessToken, user } = await anonymousLogin(cluster, nodeA);
      const onA = await connectWithToken(nodeA, accessToken);
      const onB = await connectWithToken(nodeB, accessToken);
      const watcherA = await watcherOn(cluster, nodeA, [user.id]);
      const watcherB = await watcherOn(cluster, nodeB, [user.id]);
      await eventually(
        () => entryOf(watcherA, user.id),
        (entry) => entry?.connections === 2,
        'both connections on A',
      );
      await eventually(
        () => entryOf(watcherB, user.id),
        (entry) => entry?.connections === 2,
        'both connections on B',
      );
      // No wait for the nodes' views to be complete: a node whose view is not complete yet (it
      // joined moments ago, or its link came back) ends the user once it is, if still offline.

      await onA.close();
      await eventually(
        () => entryOf(watcherB, user.id),
        (entry) => entry?.connections === 1,
        'the close on A to reach B',
      );
      expect((await me(nodeA, accessToken)).status).toBe(200);
      expect(await onB.request({ type: 'ping' })).toMatchObject({ type: 'pong' });

      await onB.close();
      const ended = await eventually(
        () => me(nodeA, accessToken),
        (answer) => answer.status === 401,
        'the anonymous user to end',
        DEADLINE_MS + WAIT_MS,
      );
      expect(ended.body.error?.code).toBe('user_ended');
      await Promise.all([watcherA.close(), watcherB.close()]);
    });

    it('drops the users of a killed node once it has not been heard from for the heartbeat deadline', async () => {
      const nodeE = await cluster.addNode();
      const watcher = await watcherOn(cluster, nodeB);
      const { user, login } = await logInOn(cluster, nodeE);
      const onE = await connectWithToken(nodeE, login.accessToken);
      await watcher.find(isJoin(login.session.id));

      const since = watcher.frames.length;
      nodeE.child.kill('SIGKILL');
      await nodeE.exited;
      expect(
        await watcher.find<PresenceLeaveFrame>(after(watcher, since, isLeave(login.session.id)), DEADLINE_MS + WAIT_MS),
      ).toMatchObject({ userId: user.id, entry: null });
      // Dropped at its deadline, not before: node B says so, with the silence it measured. No upper
      // bound on the time, which a busy machine stretches.
      const dropped = new RegExp(
        `\\{[^\\n]*"node":"[^"]*-${nodeE.pid}-[0-9a-f]+","silentMs":(\\d+)[^\\n]*was not heard from`,
      );
      await nodeB.waitForOutput(dropped);
      expect(Number(dropped.exec(nodeB.output())![1])).toBeGreaterThanOrEqual(DEADLINE_MS);
      expect(await entryOf(watcher, user.id)).toBeUndefined();
      await onE.waitClosed();
      await watcher.close();
    });

    it("shows each node its own users only once the others' heartbeat deadline has passed, and the whole cluster again when Redis is back", async () => {
      const onA = await logInOn(cluster, nodeA);
      const onB = await logInOn(cluster, nodeB);
      const clientA = await connectWithToken(nodeA, onA.login.accessToken);
      const watcherB = await connectWithToken(nodeB, onB.login.accessToken);
      await watcherB.request({ type: 'presence.subscribe' });
      const online = (state: PresenceStateFrame) => state.users.map((entry) => entry.userId).sort();
      const both = [onA.user.id, onB.user.id].sort();
      await eventually(
        () => watcherB.request<PresenceStateFrame>({ type: 'presence.query' }),
        (state) => online(state).join() === both.join(),
        'both users on B',
      );

      const since = watcherB.frames.length;
      await redis.stop(true);
      // B keeps A's users until A's deadline, then drops them; its own stay.
      const left = await watcherB.find(after(watcherB, since, isLeave(onA.login.session.id)), DEADLINE_MS + WAIT_MS);
      expect(online(await watcherB.request<PresenceStateFrame>({ type: 'presence.query' }))).toEqual([onB.user.id]);

      await redis.restart();
      const rejoined = await watcherB.find<PresenceJoinFrame>(
        after(watcherB, watcherB.frames.indexOf(left) + 1, isJoin(onA.login.session.id)),
      );
      expect(rejoined.entry).toMatchObject({ userId: onA.user.id, connections: 1 });
      expect(clientA.isOpen).toBe(true);
      await Promise.all([clientA.close(), watcherB.close()]);
    });

    it('does not end an anonymous user let go while the view is incomplete, and ends it once the view is complete and the user still offline', async () => {
      // Issue 12: the view is kept incomplete by a link that is down for as long as the test needs,
      // not by the first seconds after a start, which a busy machine could use up before the test ran.
      await enableAnonymous(cluster, nodeA);
      const { accessToken, user, session } = await anonymousLogin(cluster, nodeA);
      const onA = await connectWithToken(nodeA, accessToken);
      const watcher = await watcherOn(cluster, nodeA, [user.id]);
      await setRedis('down');

      // Node A lets the user go without ending it: node B might hold a connection A cannot hear of.
      // The leave frame goes out once A has let the user go.
      await onA.close();
      await watcher.find(isLeave(session.id));
      expect((await me(nodeA, accessToken)).status).toBe(200);

      // Once A's view is complete again (a deadline after the link is back), the user is offline everywhere, and A ends it.
      await setRedis('up');
      const ended = await eventually(
        () => me(nodeA, accessToken),
        (answer) => answer.status === 401,
        'the anonymous user to end',
        DEADLINE_MS + WAIT_MS,
      );
      expect(ended.body.error?.code).toBe('user_ended');
      await watcher.close();
    });
  },
);
