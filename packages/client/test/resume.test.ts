import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import type { TokenStorage } from '../src/index.js';
import { asyncStorage, makeClient, memoryStorage, recordingFetch, signUpAndConnect } from './helpers.js';

/** A storage in a JSON file: what a Node.js app keeps across process restarts. */
function fileStorage(path: string): TokenStorage {
  const read = (): Record<string, string> => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  return {
    getItem: (key) => read()[key] ?? null,
    setItem: (key, value) => writeFileSync(path, JSON.stringify({ ...read(), [key]: value })),
    removeItem: (key) => {
      const items = read();
      delete items[key];
      writeFileSync(path, JSON.stringify(items));
    },
  };
}

const MINUTE = 60_000;

describe.each(backends)('resuming from storage on $name', (backend) => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    dir = mkdtempSync(join(tmpdir(), 'tessera-client-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a reload (a new client on the same storage) resumes the same session without the password', async () => {
    const storage = memoryStorage();
    const first = makeClient(server, { storage });
    await signUpAndConnect(first);
    const user = await first.getLoggedInUser();
    first.dispose();

    const recorder = recordingFetch();
    const reloaded = makeClient(server, { storage, fetch: recorder.fetch });
    // The user is known at once, from storage, before any call.
    expect(await reloaded.getLoggedInUser()).toEqual(user);
    expect(recorder.calls).toEqual([]);
    const resumed = await reloaded.reAuthenticate();
    expect(resumed.user.id).toBe(user!.id);
    // A still-valid access token is checked, not spent.
    expect(recorder.spent()).toBe(0);
    expect(recorder.calls).toEqual([{ method: 'GET', path: '/v1/apps/demo/chat/me' }]);
  });

  it('a restart after the access token expired resumes by spending the reconnect token, in the same session', async () => {
    const path = join(dir, 'session.json');
    const first = makeClient(server, { storage: fileStorage(path) });
    await signUpAndConnect(first);
    const before = await first.reAuthenticate();
    first.dispose();
    server.clock.advance(20 * MINUTE);

    const recorder = recordingFetch();
    const restarted = makeClient(server, { storage: fileStorage(path), fetch: recorder.fetch });
    const resumed = await restarted.reAuthenticate();
    expect(resumed.session.id).toBe(before.session.id);
    expect(resumed.accessToken).not.toBe(before.accessToken);
    expect(recorder.spent()).toBe(1);
    // The file holds the successor; the spent token is gone from it.
    const stored = readFileSync(path, 'utf8');
    expect(stored).toContain(resumed.reconnectToken);
    expect(stored).not.toContain(before.reconnectToken);
  });

  it('reAuthenticate({ force: true }) spends the reconnect token even while the access token is valid', async () => {
    const recorder = recordingFetch();
    const client = makeClient(server, { fetch: recorder.fetch });
    await signUpAndConnect(client);
    const before = await client.reAuthenticate();
    const after = await client.reAuthenticate({ force: true });
    expect(after.session.id).toBe(before.session.id);
    expect(after.reconnectToken).not.toBe(before.reconnectToken);
    expect(recorder.spent()).toBe(1);
  });

  // The restarted server listens on another port, so it names itself differently in new tokens
  // and refuses the old access token as invalid_token: the client replaces it with the reconnect token.
  it('works with an asynchronous storage, and survives a server restart', async () => {
    const storage = asyncStorage();
    const client = makeClient(server, { storage });
    await signUpAndConnect(client);
    expect([...storage.items.keys()]).toEqual(['tessera:demo/chat']);
    const restarted = await server.restart();
    server = restarted;
    const resumed = makeClient(restarted, { storage });
    expect((await resumed.fetchUser()).id).toBe((await client.getLoggedInUser())!.id);
  });

  it('takes damaged or foreign stored values for no session', async () => {
    const storage = memoryStorage();
    await storage.setItem('tessera:demo/chat', '{not json');
    const client = makeClient(server, { storage });
    expect(await client.getLoggedInUser()).toBeNull();
    await storage.setItem('tessera:demo/chat', JSON.stringify({ v: 99, accessToken: 'x' }));
    expect(await makeClient(server, { storage }).getLoggedInUser()).toBeNull();
    await expect(makeClient(server, { storage }).reAuthenticate()).rejects.toMatchObject({
      code: 'missing_credentials',
    });
  });

  it('keeps one session per storage key: two apps, or two keys, do not mix', async () => {
    const storage = memoryStorage();
    const a = makeClient(server, { storage });
    const b = makeClient(server, { storage, storageKey: 'second-account' });
    await signUpAndConnect(a);
    await signUpAndConnect(b);
    expect((await a.getLoggedInUser())!.id).not.toBe((await b.getLoggedInUser())!.id);
    await a.logout();
    expect(await makeClient(server, { storage }).getLoggedInUser()).toBeNull();
    expect(await makeClient(server, { storage, storageKey: 'second-account' }).getLoggedInUser()).not.toBeNull();
  });

  it('clears the storage on logout, and a reload finds nobody', async () => {
    const storage = memoryStorage();
    const client = makeClient(server, { storage });
    await signUpAndConnect(client);
    await client.logout();
    expect(await storage.getItem('tessera:demo/chat')).toBeNull();
    expect(await makeClient(server, { storage }).getLoggedInUser()).toBeNull();
  });
});
