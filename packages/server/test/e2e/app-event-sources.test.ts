import type { AuthenticationResult, SessionEndedEvent } from '@tessera/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { allowInserts, allowWrites, refuseInserts, refuseWrites } from '../helpers/refused-inserts.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD } from '../helpers/users.js';
import { SseStream } from '../helpers/sse.js';

// Issue 15, item 2: every change a backend must hear of writes its event in the change's own
// transaction — there exactly when the change is — and the stream carries it.

describe.each(backends)('what the app event stream carries on $name (issue 15)', (backend) => {
  let server: TestServer;
  let app: TestApp;
  const open: SseStream[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend, { events: { maxStreamsPerApp: 3 } });
    app = await createApp(server, { accessTokenTtl: 600 });
  });
  afterEach(async () => {
    for (const stream of open.splice(0)) {
      stream.close();
      await stream.done;
    }
  });
  afterAll(() => server.close());

  const subscribe = async (query = '', on: TestApp = app) => {
    const opened = await SseStream.open(`${server.url}${on.path}/events${query}`, on.secretKey);
    if (opened.stream === undefined) throw new Error(`stream refused: ${opened.status} ${JSON.stringify(opened.body)}`);
    open.push(opened.stream);
    const ready = await opened.stream.ready();
    return { stream: opened.stream, ready };
  };
  const asSecret = (method: string, path: string, body?: unknown) =>
    server.api(method, `${app.path}${path}`, { key: app.secretKey, ...(body === undefined ? {} : { body }) });
  const expiry = (seconds: number) => new Date(server.clock.now() + seconds * 1000).toISOString();
  const db = () => server.tessera.services.store.db;

  it('disabling a user streams user.disabled then session.ended (user_disabled); enabling streams user.enabled', async () => {
    const { stream, ready } = await subscribe();
    const { user, login } = await signUpAndLogInTo(server, app);
    expect((await asSecret('PATCH', `/users/${user.id}`, { disabled: true })).status).toBe(200);
    expect((await asSecret('PATCH', `/users/${user.id}`, { disabled: false })).status).toBe(200);
    const events = [await stream.nextEvent(), await stream.nextEvent(), await stream.nextEvent()];
    expect(events).toEqual([
      expect.objectContaining({
        type: 'user.disabled',
        sequence: ready.after + 1,
        userId: user.id,
        tokensExpireBy: expiry(600),
      }),
      expect.objectContaining({
        type: 'session.ended',
        sequence: ready.after + 2,
        userId: user.id,
        sessionIds: [login.session.id],
        reason: 'user_disabled',
        tokensExpireBy: expiry(600),
      }),
      expect.objectContaining({ type: 'user.enabled', sequence: ready.after + 3, userId: user.id }),
    ]);
  });

  it('a change of roles, tags or profile streams user.changed naming the fields', async () => {
    const { stream } = await subscribe();
    const { user } = await signUpAndLogInTo(server, app);
    expect((await asSecret('PATCH', `/users/${user.id}`, { roles: ['moderator'], fullName: 'Ada' })).status).toBe(200);
    expect(await stream.nextEvent()).toMatchObject({
      type: 'user.changed',
      userId: user.id,
      changed: ['roles', 'profile'],
    });
  });

  it('a password change by the user ends its other sessions with reason password_changed', async () => {
    const { stream } = await subscribe();
    const { user, login, email } = await signUpAndLogInTo(server, app);
    const other = await server.api<{ session: { id: string } }>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    const changed = await server.api('PATCH', `${app.path}/me`, {
      token: login.accessToken,
      body: { password: 'second password of mine', oldPassword: PASSWORD },
    });
    expect(changed.status).toBe(200);
    expect(await stream.nextEvent()).toMatchObject({
      type: 'session.ended',
      userId: user.id,
      sessionIds: [other.body.session.id],
      reason: 'password_changed',
    });
  });

  it('deleting a user streams session.ended (user_deleted) then user.deleted', async () => {
    const { stream } = await subscribe();
    const { user, login } = await signUpAndLogInTo(server, app);
    expect((await asSecret('DELETE', `/users/${user.id}`)).status).toBe(204);
    expect([await stream.nextEvent(), await stream.nextEvent()]).toEqual([
      expect.objectContaining({ type: 'session.ended', sessionIds: [login.session.id], reason: 'user_deleted' }),
      expect.objectContaining({ type: 'user.deleted', userId: user.id, tokensExpireBy: expiry(600) }),
    ]);
  });

  it('revoking sessions by the backend and the kill switch stream session.ended', async () => {
    const other = await createApp(server);
    const { stream } = await subscribe('', other);
    const a = await signUpAndLogInTo(server, other);
    const b = await signUpAndLogInTo(server, other);
    const revoked = await server.api('DELETE', `${other.path}/users/${a.user.id}/sessions`, { key: other.secretKey });
    expect(revoked.status).toBe(200);
    expect(await stream.nextEvent()).toMatchObject({ userId: a.user.id, reason: 'revoked' });
    // Sessions started before the cut-off end: the clock moves past b's login.
    server.clock.advance(1);
    const cut = await server.api('POST', `/v1/admin/apps/${other.namespace}/${other.name}/sessions/revoke-before`, {
      token: server.adminToken,
      body: {},
    });
    expect(cut.status).toBeLessThan(300);
    expect(await stream.nextEvent()).toMatchObject({
      userId: b.user.id,
      sessionIds: [b.login.session.id],
      reason: 'revoked_before',
    });
  });

  it("an anonymous user's signup streams user.changed (kind, username) and the end of its guest session", async () => {
    const other = await createApp(server, { strategies: { anonymous: { enabled: true } } });
    const { stream } = await subscribe('', other);
    const anonymous = await server.api<AuthenticationResult>('POST', `${other.path}/authentication`, {
      key: other.publishableKey,
      body: { strategy: 'anonymous', displayName: 'Clark' },
    });
    expect(anonymous.status).toBe(201);
    const upgraded = await server.api('POST', `${other.path}/me/upgrade`, {
      token: anonymous.body.accessToken,
      body: { username: `clark${Date.now()}`, password: PASSWORD },
    });
    expect(upgraded.status).toBe(200);
    const userId = anonymous.body.user.id;
    expect([await stream.nextEvent(), await stream.nextEvent()]).toEqual([
      expect.objectContaining({ type: 'user.changed', userId, changed: ['kind', 'username'] }),
      expect.objectContaining({
        type: 'session.ended',
        userId,
        sessionIds: [anonymous.body.session.id],
        reason: 'user_upgraded',
      }),
    ]);
  });

  it('rotating the signing key streams signing_key.rotated with the new kid', async () => {
    const { stream } = await subscribe();
    const rotated = await server.api<{ kid: string }>(
      'POST',
      `/v1/admin/apps/${app.namespace}/${app.name}/signing-keys/rotate`,
      { token: server.adminToken },
    );
    expect(rotated.status).toBe(201);
    expect(await stream.nextEvent()).toMatchObject({ type: 'signing_key.rotated', kid: rotated.body.kid });
  });

  it('a change that fails writes no event; once it succeeds, the change and its event are both there', async () => {
    const { stream, ready } = await subscribe();
    const { user, login } = await signUpAndLogInTo(server, app);
    await refuseInserts(db(), backend.name, 'app_events');
    try {
      expect((await server.api('DELETE', `${app.path}/authentication`, { token: login.accessToken })).status).toBe(500);
    } finally {
      await allowInserts(db(), backend.name, 'app_events');
    }
    // The session did not end: the logout rolled back with its event.
    expect((await server.api('GET', `${app.path}/me`, { token: login.accessToken })).status).toBe(200);
    await refuseWrites(db(), backend.name, 'users', 'delete');
    try {
      expect((await asSecret('DELETE', `/users/${user.id}`)).status).toBe(500);
    } finally {
      await allowWrites(db(), backend.name, 'users', 'delete');
    }
    expect((await server.api('DELETE', `${app.path}/authentication`, { token: login.accessToken })).status).toBe(200);
    const event = (await stream.nextEvent()) as SessionEndedEvent;
    // Nothing of the failed attempts: the next sequence is the logout that went through.
    expect(event).toMatchObject({ sequence: ready.after + 1, reason: 'logout', sessionIds: [login.session.id] });
    const stored = await server.tessera.services.store.db
      .selectFrom('app_events')
      .select(['sequence', 'type'])
      .where('sequence', '>', ready.after)
      .where('user_id', '=', user.id)
      .execute();
    expect(stored.map((row) => row.type)).toEqual(['session.ended']);
  });

  it('tells a subscriber resuming from before the retention window that it missed events (gap)', async () => {
    // Sequence 1 is the app's first signing key.
    const other = await createApp(server, { accessTokenTtl: 300 });
    const first = await signUpAndLogInTo(server, other);
    await server.api('DELETE', `${other.path}/authentication`, { token: first.login.accessToken });
    server.clock.advance(25 * 3600_000);
    const second = await signUpAndLogInTo(server, other);
    await server.api('DELETE', `${other.path}/authentication`, { token: second.login.accessToken });
    expect((await server.tessera.services.maintenance.run()).prunedEvents).toBeGreaterThanOrEqual(2);
    const { stream, ready } = await subscribe('?after=0', other);
    expect(ready).toEqual({ after: 0, gap: true, retentionSeconds: 86_400 });
    expect(await stream.nextEvent()).toMatchObject({ sequence: 3, userId: second.user.id });
    const readyAfter = async (after: number) => {
      const opened = await subscribe(`?after=${after}`, other);
      opened.stream.close();
      await opened.stream.done;
      return opened.ready;
    };
    expect((await readyAfter(1)).gap).toBe(true);
    // From the last one pruned, or the latest: nothing missed.
    expect(await readyAfter(2)).toEqual({ after: 2, gap: false, retentionSeconds: 86_400 });
    expect(await readyAfter(3)).toEqual({ after: 3, gap: false, retentionSeconds: 86_400 });
  });

  it('answers a resume point beyond the latest event with gap, from the latest', async () => {
    const other = await createApp(server);
    const { ready } = await subscribe('?after=1000', other);
    expect(ready).toEqual({ after: 1, gap: true, retentionSeconds: 86_400 });
  });

  it('refuses a stream beyond the per-app limit with 429 too_many_event_streams, and takes one again once one closes', async () => {
    const other = await createApp(server);
    const streams = [];
    for (let i = 0; i < 3; i += 1) streams.push((await subscribe('', other)).stream);
    const refused = await SseStream.open(`${server.url}${other.path}/events`, other.secretKey);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { code: 'too_many_event_streams' } });
    // Another app has streams of its own.
    await subscribe('', app);
    streams[0]!.close();
    await streams[0]!.done;
    await expect.poll(() => server.tessera.services.eventStreams.size, { timeout: 10_000 }).toBe(3);
    await subscribe('', other);
  });

  it('ends a stream whose key was revoked at its next keep-alive beat', async () => {
    const other = await createApp(server);
    const created = await server.api<{ key: string; id: string }>(
      'POST',
      `/v1/admin/apps/${other.namespace}/${other.name}/keys`,
      { token: server.adminToken, body: { kind: 'secret', scopes: ['sessions:read'] } },
    );
    expect(created.status).toBe(201);
    const { stream } = await subscribe('', { ...other, secretKey: created.body.key });
    const revoked = await server.api(
      'DELETE',
      `/v1/admin/apps/${other.namespace}/${other.name}/keys/${created.body.id}`,
      {
        token: server.adminToken,
      },
    );
    expect(revoked.status).toBeLessThan(300);
    server.realTime.advance(15_000);
    await stream.done;
    const again = await SseStream.open(`${server.url}${other.path}/events`, created.body.key);
    expect(again.status).toBe(401);
  });

  it('ends every stream on shutdown, before the port closes', async () => {
    const { stream } = await subscribe();
    await server.tessera.close();
    await stream.done;
    await expect(stream.next(100)).rejects.toThrow('the stream ended');
    server = await server.restart();
  });
});
