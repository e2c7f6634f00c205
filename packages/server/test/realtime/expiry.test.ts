import type { Session } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, logInTo, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connectWithToken } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD } from '../helpers/users.js';

const HOUR = 3600;

describe.each(backends)('session idle and absolute expiry over realtime on $name', (backend) => {
  let server: TestServer;
  let idleApp: TestApp;
  beforeAll(async () => {
    server = await startTestServer(backend);
    // Long access tokens: these tests are about the session's own deadlines.
    idleApp = await createApp(server, { sessionIdleTimeout: 120, accessTokenTtl: HOUR });
  });
  afterAll(() => server.close());

  const advanceTo = (time: number) => server.clock.advance(time - server.clock.now());
  const settled = () => server.tessera.realtime.settled();

  /** The session as another session of the same user sees it (that call slides only its own session). */
  async function sessionSeenFrom(observerToken: string, sessionId: string): Promise<Session | undefined> {
    const response = await server.api<{ items: Session[] }>('GET', `${idleApp.path}/me/sessions`, {
      token: observerToken,
    });
    return response.body.items.find((session) => session.id === sessionId);
  }

  it('warns, then closes with session_expired when the session sees no activity for its idle timeout', async () => {
    const { login } = await signUpAndLogInTo(server, idleApp);
    const start = server.clock.now();
    const client = await connectWithToken(server, login.accessToken, idleApp);
    advanceTo(start + 60_000);
    expect(await client.next('session.expiring')).toEqual({
      type: 'session.expiring',
      reason: 'idle',
      expiresAt: new Date(start + 120_000).toISOString(),
    });
    advanceTo(start + 120_000);
    expect(await client.waitClosed()).toMatchObject({ code: 4114, error: 'session_expired' });
  });

  it('slides the idle expiry with socket activity, writing at most once a minute as REST does', async () => {
    const { login, email } = await signUpAndLogInTo(server, idleApp);
    const observer = await logInTo(server, idleApp, { strategy: 'local', email, password: PASSWORD });
    const start = server.clock.now();
    const client = await connectWithToken(server, login.accessToken, idleApp);

    // Under a minute since the last write: a frame does not write.
    advanceTo(start + 30_000);
    await client.request({ type: 'ping' });
    await settled();
    expect((await sessionSeenFrom(observer.accessToken, login.session.id))?.lastSeenAt).toBe(
      new Date(start).toISOString(),
    );

    // Past a minute: it does, and the idle expiry moves with it.
    advanceTo(start + 61_000);
    await client.request({ type: 'ping' });
    await settled();
    expect(await sessionSeenFrom(observer.accessToken, login.session.id)).toMatchObject({
      lastSeenAt: new Date(start + 61_000).toISOString(),
      idleExpiresAt: new Date(start + 181_000).toISOString(),
    });

    // The old idle deadline passes with the socket open; the new one closes it.
    advanceTo(start + 125_000);
    const notice = new Date(start + 181_000).toISOString();
    expect(await client.find((frame) => frame.type === 'session.expiring' && frame.expiresAt === notice)).toMatchObject(
      { reason: 'idle' },
    );
    expect(client.isOpen).toBe(true);
    advanceTo(start + 181_000);
    expect(await client.waitClosed()).toMatchObject({ error: 'session_expired' });
  });

  it('counts REST activity of the same session: the socket stays open past its first idle deadline', async () => {
    const { login } = await signUpAndLogInTo(server, idleApp);
    const start = server.clock.now();
    const client = await connectWithToken(server, login.accessToken, idleApp);
    advanceTo(start + 90_000);
    expect((await server.api('GET', `${idleApp.path}/me`, { token: login.accessToken })).status).toBe(200);
    advanceTo(start + 121_000);
    await settled();
    // Still served (and under a minute since the REST call: this ping writes nothing).
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    advanceTo(start + 210_000);
    expect(await client.waitClosed()).toMatchObject({ error: 'session_expired' });
  });

  it("closes with session_expired at the session's absolute end, whatever the activity, after a notice", async () => {
    const app = await createApp(server, { sessionLifetime: 300, sessionIdleTimeout: HOUR, accessTokenTtl: HOUR });
    const { login } = await signUpAndLogInTo(server, app);
    const start = server.clock.now();
    const client = await connectWithToken(server, login.accessToken, app);
    advanceTo(start + 200_000);
    await client.request({ type: 'ping' });
    advanceTo(start + 240_000);
    expect(await client.next('session.expiring')).toEqual({
      type: 'session.expiring',
      reason: 'session',
      expiresAt: new Date(start + 300_000).toISOString(),
    });
    advanceTo(start + 300_000);
    expect(await client.waitClosed()).toMatchObject({ code: 4114, error: 'session_expired' });
  });
});
