import type { AppEvent, SessionEndedEvent } from '@tessera/protocol';
import { EVENT_STREAM_KEEP_ALIVE_MS } from '@tessera/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { SseStream } from '../helpers/sse.js';

// Issue 15, item 2: the app's event stream for its backends (GET …/events, Server-Sent Events).

type ErrorAnswer = { error: { code: string; status: number; details?: unknown } };

describe.each(backends)('the app event stream on $name (issue 15)', (backend) => {
  let server: TestServer;
  let app: TestApp;
  const open: SseStream[] = [];

  beforeAll(async () => {
    server = await startTestServer(backend);
    app = await createApp(server);
  });
  afterEach(async () => {
    for (const stream of open.splice(0)) {
      stream.close();
      await stream.done;
    }
  });
  afterAll(() => server.close());

  const subscribe = async (on: TestApp = app, query = '', headers: Record<string, string> = {}) => {
    const opened = await SseStream.open(`${server.url}${on.path}/events${query}`, on.secretKey, headers);
    if (opened.stream === undefined) throw new Error(`stream refused: ${opened.status} ${JSON.stringify(opened.body)}`);
    open.push(opened.stream);
    return opened.stream;
  };
  const logOut = async (accessToken: string, on: TestApp = app) =>
    expect((await server.api('DELETE', `${on.path}/authentication`, { token: accessToken })).status).toBe(200);

  it('streams session.ended with reason logout when a user logs out, after ready', async () => {
    const opened = await SseStream.open(`${server.url}${app.path}/events`, app.secretKey);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(opened.headers.get('cache-control')).toBe('no-store');
    expect(opened.headers.get('x-accel-buffering')).toBe('no');
    const stream = opened.stream!;
    open.push(stream);
    const ready = await stream.ready();
    expect(ready).toEqual({ after: expect.any(Number), gap: false, retentionSeconds: 86_400 });
    const { user, login } = await signUpAndLogInTo(server, app);
    await logOut(login.accessToken);
    const event = (await stream.nextEvent()) as SessionEndedEvent;
    expect(event).toEqual({
      type: 'session.ended',
      sequence: ready.after + 1,
      app: `${app.namespace}/${app.name}`,
      at: new Date(server.clock.now()).toISOString(),
      userId: user.id,
      sessionIds: [login.session.id],
      reason: 'logout',
      tokensExpireBy: new Date(server.clock.now() + 15 * 60_000).toISOString(),
    });
  });

  it('resumes after Last-Event-ID or ?after= with nothing missed and nothing repeated', async () => {
    const first = await subscribe();
    const { after } = await first.ready();
    const logins = [];
    for (let i = 0; i < 3; i += 1) logins.push((await signUpAndLogInTo(server, app)).login);
    for (const login of logins) await logOut(login.accessToken);
    const seen: AppEvent[] = [await first.nextEvent()];
    first.close();
    const byHeader = await subscribe(app, '', { 'last-event-id': String(seen[0]!.sequence) });
    expect(await byHeader.ready()).toMatchObject({ after: seen[0]!.sequence, gap: false });
    const rest = [await byHeader.nextEvent(), await byHeader.nextEvent()];
    expect([...seen, ...rest].map((event) => event.sequence)).toEqual([after + 1, after + 2, after + 3]);
    expect(rest.map((event) => (event as SessionEndedEvent).sessionIds[0])).toEqual(
      logins.slice(1).map((login) => login.session.id),
    );
    const byQuery = await subscribe(app, `?after=${after + 1}`);
    expect(await byQuery.ready()).toMatchObject({ after: after + 1, gap: false });
    expect((await byQuery.nextEvent()).sequence).toBe(after + 2);
    expect((await byQuery.nextEvent()).sequence).toBe(after + 3);
  });

  it('refuses a resume point that is not a non-negative integer with 400 invalid_request', async () => {
    for (const query of ['?after=-1', '?after=abc', '?after=1.5', '?after=1e3', '?after=']) {
      const answer = await SseStream.open(`${server.url}${app.path}/events${query}`, app.secretKey);
      expect(answer.status, query).toBe(400);
      expect((answer.body as ErrorAnswer).error.code).toBe('invalid_request');
    }
    const header = await SseStream.open(`${server.url}${app.path}/events`, app.secretKey, { 'last-event-id': 'x' });
    expect(header.status).toBe(400);
  });

  it('needs a secret key with sessions:read', async () => {
    const none = await SseStream.open(`${server.url}${app.path}/events`, undefined);
    expect(none.status).toBe(401);
    const publishable = await SseStream.open(`${server.url}${app.path}/events`, app.publishableKey);
    expect(publishable.status).toBe(403);
    const created = await server.api<{ key: string }>('POST', `/v1/admin/apps/${app.namespace}/${app.name}/keys`, {
      token: server.adminToken,
      body: { kind: 'secret', scopes: ['users:read'] },
    });
    const unscoped = await SseStream.open(`${server.url}${app.path}/events`, created.body.key);
    expect(unscoped.status).toBe(403);
    expect((unscoped.body as ErrorAnswer).error.code).toBe('insufficient_scope');
  });

  it("never streams another app's events", async () => {
    const other = await createApp(server);
    const mine = await subscribe();
    const { after } = await mine.ready();
    const theirs = await signUpAndLogInTo(server, other);
    await logOut(theirs.login.accessToken, other);
    const ours = await signUpAndLogInTo(server, app);
    await logOut(ours.login.accessToken);
    const event = (await mine.nextEvent()) as SessionEndedEvent;
    expect(event).toMatchObject({ sequence: after + 1, userId: ours.user.id });
  });

  it('sends a keep-alive comment when nothing happened for the keep-alive interval', async () => {
    const stream = await subscribe();
    await stream.ready();
    server.realTime.advance(EVENT_STREAM_KEEP_ALIVE_MS);
    expect(await stream.next()).toMatchObject({ comment: 'keep-alive' });
  });

  it('delivers at the periodic read an event whose wake-up was lost (written with no bus message)', async () => {
    const other = await createApp(server);
    const stream = await subscribe(other);
    const { after } = await stream.ready();
    const { db } = server.tessera.services.store;
    const { id: appId } = await db
      .selectFrom('apps')
      .innerJoin('namespaces', 'namespaces.id', 'apps.namespace_id')
      .select('apps.id')
      .where('namespaces.name', '=', other.namespace)
      .executeTakeFirstOrThrow();
    // As another node would commit it, its bus message lost on the way.
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('app_event_sequences')
        .set({ last_sequence: after + 1 })
        .where('app_id', '=', appId)
        .execute();
      await trx
        .insertInto('app_events')
        .values({
          app_id: appId,
          sequence: after + 1,
          type: 'user.enabled',
          user_id: 'u1',
          data: JSON.stringify({ userId: 'u1' }),
          created_at: server.clock.now(),
        })
        .execute();
    });
    expect(stream.pending).toBe(0);
    server.realTime.advance(5000);
    expect(await stream.nextEvent()).toMatchObject({ type: 'user.enabled', sequence: after + 1, userId: 'u1' });
  });
});
