import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import type { SessionEndedEvent } from '../src/index.js';
import { makeClient, memoryStorage, PASSWORD, recordingFetch, signUpAndConnect } from './helpers.js';

const MINUTE = 60_000;

describe.each(backends)('one refresh at a time on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const live = async (accessToken: string) =>
    (await server.api('GET', '/v1/apps/demo/chat/me', { token: accessToken })).status;

  it('ten concurrent calls after expiry share one refresh: one reconnect token spent', async () => {
    const recorder = recordingFetch();
    const client = makeClient(server, { fetch: recorder.fetch });
    await signUpAndConnect(client);
    server.clock.advance(20 * MINUTE);
    const users = await Promise.all(Array.from({ length: 10 }, () => client.fetchUser()));
    expect(new Set(users.map((user) => user.id)).size).toBe(1);
    expect(recorder.spent()).toBe(1);
  });

  it('two clients sharing a storage (two tabs) refreshing at once spend one reconnect token, and both end up with valid tokens', async () => {
    const storage = memoryStorage();
    const recorder = recordingFetch();
    const tabA = makeClient(server, { storage, fetch: recorder.fetch });
    await signUpAndConnect(tabA);
    const tabB = makeClient(server, { storage, fetch: recorder.fetch });
    const sessionId = (await tabB.reAuthenticate()).session.id;
    const ended: SessionEndedEvent[] = [];
    tabA.on('sessionEnded', (event) => ended.push(event));
    tabB.on('sessionEnded', (event) => ended.push(event));

    server.clock.advance(20 * MINUTE);
    await Promise.all([tabA.fetchUser(), tabB.fetchUser(), tabA.fetchUser(), tabB.fetchUser()]);
    expect(recorder.spent()).toBe(1);
    const [a, b] = await Promise.all([tabA.reAuthenticate(), tabB.reAuthenticate()]);
    expect(a.session.id).toBe(sessionId);
    expect(b.accessToken).toBe(a.accessToken);
    expect(await live(a.accessToken)).toBe(200);
    expect(ended).toEqual([]);
  });

  it('a tab holding superseded tokens takes the newer ones from the storage instead of spending its own', async () => {
    const storage = memoryStorage();
    const recorder = recordingFetch();
    const tabA = makeClient(server, { storage, fetch: recorder.fetch });
    await signUpAndConnect(tabA);
    const tabB = makeClient(server, { storage, fetch: recorder.fetch });
    const old = await tabB.reAuthenticate();
    // A refreshes: B's reconnect token in memory is now superseded; spending it would end the session.
    await tabA.reAuthenticate({ force: true });
    expect(recorder.spent()).toBe(1);
    server.clock.advance(20 * MINUTE);
    const fresh = await tabB.getAccessToken();
    expect(fresh).not.toBe(old.accessToken);
    // B spent the successor it read from the storage, not its own superseded token.
    expect(recorder.spent()).toBe(2);
    expect(await live(fresh!)).toBe(200);
    expect(await tabA.fetchUser()).toMatchObject({ id: old.user.id });
  });

  it('a logout in one tab is seen by the other at its next refresh, without spending anything', async () => {
    const storage = memoryStorage();
    const recorder = recordingFetch();
    const tabA = makeClient(server, { storage, fetch: recorder.fetch });
    const email = await signUpAndConnect(tabA);
    const tabB = makeClient(server, { storage, fetch: recorder.fetch });
    await tabB.reAuthenticate();
    const ended = new Promise<SessionEndedEvent>((resolve) => tabB.on('sessionEnded', resolve));
    await tabA.logout();
    server.clock.advance(20 * MINUTE);
    await expect(tabB.fetchUser()).rejects.toMatchObject({ code: 'session_revoked' });
    expect(await ended).toMatchObject({ reason: 'logged_out' });
    expect(recorder.spent()).toBe(0);
    // A new login in either tab is the session of both.
    await tabA.connect(email, PASSWORD);
    expect(await tabB.fetchUser()).toMatchObject({ email });
  });
});
