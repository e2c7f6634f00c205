import type {
  AuthenticatedFrame,
  PresenceJoinFrame,
  PresenceLeaveFrame,
  PresenceStateFrame,
  ServerFrame,
} from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, logInTo, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connect, connectWithToken, type TestClient } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD } from '../helpers/users.js';

const isLeave = (sessionId: string) => (frame: ServerFrame) =>
  frame.type === 'presence.leave' && frame.sessionId === sessionId;
const isJoin = (sessionId: string) => (frame: ServerFrame) =>
  frame.type === 'presence.join' && frame.sessionId === sessionId;

describe.each(backends)('realtime presence on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  async function watcherOf(
    app: TestApp,
    userIds?: string[],
  ): Promise<{ client: TestClient; state: PresenceStateFrame }> {
    const { login } = await signUpAndLogInTo(server, app);
    const client = await connectWithToken(server, login.accessToken, app);
    const state = await client.request<PresenceStateFrame>({
      type: 'presence.subscribe',
      ...(userIds === undefined ? {} : { userIds }),
    });
    return { client, state };
  }

  it('answers a subscription with who is online, then sends a join per new session and a leave per ended one', async () => {
    const app = await createApp(server);
    const watcher = await watcherOf(app);
    expect(watcher.state).toMatchObject({ type: 'presence.state', truncated: false, users: [{ connections: 1 }] });

    const { user, login, email } = await signUpAndLogInTo(server, app, { fullName: 'Ada Lovelace' });
    const a1 = await connectWithToken(server, login.accessToken, app);
    expect(await watcher.client.find<PresenceJoinFrame>(isJoin(login.session.id))).toEqual({
      type: 'presence.join',
      sessionId: login.session.id,
      entry: {
        userId: user.id,
        kind: 'registered',
        displayName: 'Ada Lovelace',
        connections: 1,
        sessions: [{ sessionId: login.session.id, connections: 1 }],
      },
    });

    // A second connection of the same session is no join; it shows in the counts.
    const a2 = await connectWithToken(server, login.accessToken, app);
    const second = await logInTo(server, app, { strategy: 'local', email, password: PASSWORD });
    const b = await connectWithToken(server, second.accessToken, app);
    expect(await watcher.client.find<PresenceJoinFrame>(isJoin(second.session.id))).toMatchObject({
      entry: { connections: 3, sessions: [{ connections: 2 }, { connections: 1 }] },
    });
    const state = await watcher.client.request<PresenceStateFrame>({ type: 'presence.query', userIds: [user.id] });
    expect(state.users).toEqual([
      { userId: user.id, kind: 'registered', displayName: 'Ada Lovelace', connections: 3, sessions: expect.any(Array) },
    ]);
    expect(watcher.client.frames.filter(isJoin(login.session.id))).toHaveLength(1);

    // The session leaves with its last connection; the user with its last session.
    await a1.close();
    await a2.close();
    expect(await watcher.client.find<PresenceLeaveFrame>(isLeave(login.session.id))).toMatchObject({
      userId: user.id,
      entry: { connections: 1, sessions: [{ sessionId: second.session.id }] },
    });
    await b.close();
    expect(await watcher.client.find<PresenceLeaveFrame>(isLeave(second.session.id))).toEqual({
      type: 'presence.leave',
      userId: user.id,
      sessionId: second.session.id,
      entry: null,
    });
    expect(watcher.client.frames.filter(isLeave(login.session.id))).toHaveLength(1);
    expect(
      (await watcher.client.request<PresenceStateFrame>({ type: 'presence.query', userIds: [user.id] })).users,
    ).toEqual([]);
    await watcher.client.close();
  });

  it('follows only the users a subscription names, and stops on unsubscribe', async () => {
    const app = await createApp(server);
    const followed = await signUpAndLogInTo(server, app);
    const ignored = await signUpAndLogInTo(server, app);
    const watcher = await watcherOf(app, [followed.user.id]);
    expect(watcher.state.users).toEqual([]);
    const ignoredClient = await connectWithToken(server, ignored.login.accessToken, app);
    const followedClient = await connectWithToken(server, followed.login.accessToken, app);
    await watcher.client.find(isJoin(followed.login.session.id));
    expect(watcher.client.frames.some(isJoin(ignored.login.session.id))).toBe(false);

    watcher.client.send({ type: 'presence.unsubscribe' });
    await watcher.client.request({ type: 'ping' });
    // A logout closes the socket, and so publishes its leave, before it answers.
    await server.api('DELETE', `${app.path}/authentication`, { token: followed.login.accessToken });
    await followedClient.waitClosed();
    const after = await watcher.client.request<PresenceStateFrame>({
      type: 'presence.query',
      userIds: [followed.user.id, ignored.user.id],
    });
    expect(after.users.map((entry) => entry.userId)).toEqual([ignored.user.id]);
    expect(watcher.client.frames.some(isLeave(followed.login.session.id))).toBe(false);
    await Promise.all([ignoredClient.close(), watcher.client.close()]);
  });

  it('keeps presence per app', async () => {
    const [one, two] = await Promise.all([createApp(server), createApp(server)]);
    const watcher = await watcherOf(one);
    const elsewhere = await signUpAndLogInTo(server, two);
    const client = await connectWithToken(server, elsewhere.login.accessToken, two);
    const state = await watcher.client.request<PresenceStateFrame>({ type: 'presence.query' });
    expect(state.users.map((entry) => entry.userId)).not.toContain(elsewhere.user.id);
    expect(watcher.client.frames.some(isJoin(elsewhere.login.session.id))).toBe(false);
    await Promise.all([client.close(), watcher.client.close()]);
  });

  it('refuses presence frames when the app turned presence off', async () => {
    const app = await createApp(server, { realtime: { presence: false } });
    const { login } = await signUpAndLogInTo(server, app);
    const client = await connectWithToken(server, login.accessToken, app);
    expect(await client.request({ type: 'presence.query' })).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await client.request({ type: 'presence.subscribe' })).toMatchObject({ type: 'error', code: 'forbidden' });
    await client.close();
  });

  it('keeps a user online through a refresh that moves its socket to another session', async () => {
    const app = await createApp(server);
    const watcher = await watcherOf(app);
    const { login, email } = await signUpAndLogInTo(server, app);
    const client = await connectWithToken(server, login.accessToken, app);
    const second = await logInTo(server, app, { strategy: 'local', email, password: PASSWORD });
    await client.request({ type: 'refresh', accessToken: second.accessToken });
    expect(await watcher.client.find<PresenceLeaveFrame>(isLeave(login.session.id))).toMatchObject({
      entry: { connections: 1, sessions: [{ sessionId: second.session.id }] },
    });
    await Promise.all([client.close(), watcher.client.close()]);
  });

  it('ends an anonymous user when its last connection closes: it leaves presence and its tokens answer user_ended', async () => {
    const app = await createApp(server, { strategies: { anonymous: { enabled: true } } });
    const watcher = await watcherOf(app);
    const anonymous = await connect(server, { app, key: app.publishableKey });
    const authenticated = await anonymous.request<AuthenticatedFrame>({
      type: 'authenticate',
      strategy: 'anonymous',
      displayName: 'Visitor',
    });
    expect(await watcher.client.find<PresenceJoinFrame>(isJoin(authenticated.session.id))).toMatchObject({
      entry: { kind: 'anonymous', displayName: 'Visitor' },
    });
    const second = await connectWithToken(server, authenticated.accessToken!, app);

    // One of two connections closing is not the end.
    await second.close();
    expect(await anonymous.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await server.tessera.realtime.settled();
    expect((await server.api('GET', `${app.path}/me`, { token: authenticated.accessToken! })).status).toBe(200);

    await anonymous.close();
    expect(await watcher.client.find<PresenceLeaveFrame>(isLeave(authenticated.session.id))).toMatchObject({
      entry: null,
    });
    await server.tessera.realtime.settled();
    expect((await server.api('GET', `${app.path}/me`, { token: authenticated.accessToken! })).body).toMatchObject({
      error: { code: 'user_ended' },
    });
    const reconnect = await server.api('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body: { strategy: 'reconnect', token: authenticated.reconnectToken },
    });
    expect(reconnect.body).toMatchObject({ error: { code: 'user_ended' } });
    await watcher.client.close();
  });
});
