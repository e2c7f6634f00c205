import type { User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import type { Clock, SessionEndedEvent, SessionExpiredContext } from '../src/index.js';
import {
  createApp,
  makeClient,
  memoryStorage,
  nextEvent,
  PASSWORD,
  recordingFetch,
  signUpAndConnect,
  uniqueEmail,
} from './helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe.each(backends)('expiry and the session-expired handler on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  it('refreshes the access token ahead of its expiry while the client is in use, spending one reconnect token', async () => {
    const recorder = recordingFetch();
    const client = makeClient(server, { fetch: recorder.fetch });
    await signUpAndConnect(client);
    const { accessToken, authentication } = await client.reAuthenticate();
    const expiresAt = Date.parse(authentication.accessTokenExpiresAt);
    const refreshed = nextEvent<{ accessToken: string }>((listener) => client.on('refreshed', listener));
    // 59 seconds before expiry: inside the minute the client refreshes ahead.
    server.clock.advance(expiresAt - 59_000 - server.clock.now());
    expect((await refreshed).accessToken).not.toBe(accessToken);
    expect(recorder.spent()).toBe(1);
    expect(server.clock.now()).toBeLessThan(expiresAt);
    // Past the old token's expiry, calls go out with the new one, without a 401 first.
    server.clock.advance(2 * MINUTE);
    const calls = recorder.calls.length;
    await client.fetchUser();
    expect(recorder.calls.slice(calls)).toEqual([{ method: 'GET', path: '/v1/apps/demo/chat/me' }]);
  });

  it('refreshes a short-lived token at half its life, not at every call', async () => {
    const app = await createApp(server, { accessTokenTtl: 30 });
    const recorder = recordingFetch();
    const client = makeClient(server, { app, fetch: recorder.fetch });
    const email = uniqueEmail('short-token');
    await client.signup({ email, password: PASSWORD });
    await client.connect(email, PASSWORD);
    await client.fetchUser();
    await client.fetchUser();
    expect(recorder.spent()).toBe(0);
    server.clock.advance(16_000);
    await client.fetchUser();
    expect(recorder.spent()).toBe(1);
    await client.fetchUser();
    expect(recorder.spent()).toBe(1);
  });

  it('does not refresh an unused client in the background (the idle timeout stays meaningful), and refreshes first on the next call', async () => {
    const recorder = recordingFetch();
    const client = makeClient(server, { fetch: recorder.fetch });
    await signUpAndConnect(client);
    server.clock.advance(30 * MINUTE);
    expect(recorder.spent()).toBe(0);
    const calls = recorder.calls.length;
    await client.fetchUser();
    expect(recorder.calls.slice(calls).map((call) => call.strategy ?? call.path)).toEqual([
      'reconnect',
      '/v1/apps/demo/chat/me',
    ]);
  });

  it('refreshes and retries once when the server says token_expired (a client whose clock stood still)', async () => {
    const recorder = recordingFetch();
    const start = server.clock.now();
    const frozen: Clock = { now: () => start, at: () => () => undefined };
    const client = makeClient(server, { fetch: recorder.fetch, clock: frozen });
    // By its own clock no time passes: it believes its token fresh when the server's has expired.
    await signUpAndConnect(client);
    server.clock.advance(16 * MINUTE);
    const calls = recorder.calls.length;
    await client.fetchUser();
    expect(recorder.calls.slice(calls).map((call) => call.strategy ?? call.path)).toEqual([
      '/v1/apps/demo/chat/me',
      'reconnect',
      '/v1/apps/demo/chat/me',
    ]);
  });

  it('measures the server clock from the token, so a client whose clock is ahead still refreshes on time', async () => {
    const recorder = recordingFetch();
    const ahead: Clock = {
      now: () => server.clock.now() + 3 * HOUR,
      at: (time, task) => server.clock.at(time - 3 * HOUR, task),
    };
    const client = makeClient(server, { fetch: recorder.fetch, clock: ahead });
    await signUpAndConnect(client);
    // Its clock says 3 hours later than the server's: the token still looks fresh to it.
    await client.fetchUser();
    expect(recorder.spent()).toBe(0);
  });

  it('on an expired session calls onSessionExpired once for concurrent calls; retry() runs them again after a new login', async () => {
    const client = makeClient(server);
    const email = await signUpAndConnect(client);
    const expiredSession = (await client.reAuthenticate()).session.id;
    const contexts: SessionExpiredContext[] = [];
    client.onSessionExpired(async (context) => {
      contexts.push(context);
      await client.connect(email, PASSWORD);
      context.retry();
    });
    const ended = nextEvent<SessionEndedEvent>((listener) => client.on('sessionEnded', listener));
    // Beyond the session's idle timeout (2 h): the reconnect token cannot save it.
    server.clock.advance(3 * HOUR);
    const users: User[] = await Promise.all([
      client.fetchUser(),
      client.fetchUser(),
      client.sessions.list().then(() => client.fetchUser()),
    ]);
    expect(users.map((user) => user.email)).toEqual([email, email, email]);
    expect(contexts).toHaveLength(1);
    expect(contexts[0]).toMatchObject({ reason: 'expired', error: { code: 'session_expired' } });
    expect(await ended).toMatchObject({ reason: 'expired', sessionId: expiredSession });
    expect((await client.reAuthenticate()).session.id).not.toBe(expiredSession);
  });

  it('lets the call fail with the error when the handler calls fail(), and forgets the session', async () => {
    const storage = memoryStorage();
    const client = makeClient(server, { storage });
    await signUpAndConnect(client);
    client.onSessionExpired(({ fail }) => fail());
    server.clock.advance(3 * HOUR);
    await expect(client.fetchUser()).rejects.toMatchObject({ code: 'session_expired', name: 'AuthenticationError' });
    expect(await client.getLoggedInUser()).toBeNull();
    expect(await storage.getItem('tessera:demo/chat')).toBeNull();
  });

  it('counts an async handler that ends without retry() as fail(), and without a handler the call just fails', async () => {
    const client = makeClient(server);
    await signUpAndConnect(client);
    let called = 0;
    const remove = client.onSessionExpired(async () => {
      called += 1;
    });
    server.clock.advance(3 * HOUR);
    await expect(client.fetchUser()).rejects.toMatchObject({ code: 'session_expired' });
    expect(called).toBe(1);

    remove();
    await signUpAndConnect(client);
    server.clock.advance(3 * HOUR);
    await expect(client.fetchUser()).rejects.toMatchObject({ code: 'session_expired' });
    expect(called).toBe(1);
  });

  it('tells the handler why: a revoked session, a disabled user', async () => {
    const client = makeClient(server);
    const email = await signUpAndConnect(client);
    const reasons: string[] = [];
    client.onSessionExpired(({ reason, fail }) => {
      reasons.push(reason);
      fail();
    });
    const other = makeClient(server);
    await other.connect(email, PASSWORD);
    await other.sessions.revoke((await client.reAuthenticate()).session.id);
    await expect(client.fetchUser()).rejects.toMatchObject({ code: 'session_revoked', details: { reason: 'revoked' } });

    await client.connect(email, PASSWORD);
    const user = await client.fetchUser();
    expect(
      (
        await server.api('PATCH', `/v1/apps/demo/chat/users/${user.id}`, {
          key: server.secretKey,
          body: { disabled: true },
        })
      ).status,
    ).toBe(200);
    await expect(client.updateProfile({ fullName: 'Nobody' })).rejects.toMatchObject({ code: 'user_disabled' });
    expect(reasons).toEqual(['revoked', 'disabled']);
  });

  it('a deleted user: the session ends as revoked with detail user_deleted, as a socket hears it, without trying a refresh', async () => {
    const recorder = recordingFetch();
    const client = makeClient(server, { fetch: recorder.fetch });
    await signUpAndConnect(client);
    const user = await client.fetchUser();
    const ended = nextEvent<SessionEndedEvent>((listener) => client.on('sessionEnded', listener));
    expect((await server.api('DELETE', `/v1/apps/demo/chat/users/${user.id}`, { key: server.secretKey })).status).toBe(
      204,
    );
    await expect(client.fetchUser()).rejects.toMatchObject({
      code: 'session_revoked',
      details: { reason: 'user_deleted' },
    });
    expect(await ended).toMatchObject({ reason: 'revoked', detail: 'user_deleted' });
    expect(recorder.spent()).toBe(0);
  });

  it('a session ended because a reconnect token was reused answers revoked, and the client forgets it', async () => {
    const client = makeClient(server);
    await signUpAndConnect(client);
    const { reconnectToken } = await client.reAuthenticate();
    const ended = nextEvent<SessionEndedEvent>((listener) => client.on('sessionEnded', listener));
    // A thief spends the token; beyond the grace period, the owner's use of it is a reuse.
    await makeClient(server).reconnect(reconnectToken);
    server.clock.advance(MINUTE);
    await expect(client.reAuthenticate({ force: true })).rejects.toMatchObject({ code: 'reconnect_token_reused' });
    expect(await ended).toMatchObject({ reason: 'revoked', error: { code: 'reconnect_token_reused' } });
  });
});
