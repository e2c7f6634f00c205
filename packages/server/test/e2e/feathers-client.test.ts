import type { AuthenticationResult } from '@tessera/protocol';
import authentication, { MemoryStorage } from '@feathersjs/authentication-client';
import { feathers } from '@feathersjs/feathers';
import rest from '@feathersjs/rest-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, signUp, uniqueEmail } from '../helpers/users.js';

// Feathers' own client (its CommonJS default export is reached as `.default` from ESM),, pointed at the app's base URL, with no adapter of ours.
describe.each(backends)('@feathersjs/authentication-client against Tessera on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const feathersClient = (storage: MemoryStorage) => {
    const client = feathers();
    client.configure(rest.default(server.appUrl).fetch(fetch, { headers: { 'X-Tessera-Key': server.publishableKey } }));
    client.configure(authentication.default({ storage }));
    return client;
  };

  it('authenticates, re-authenticates from storage, calls the API and logs out', async () => {
    const email = uniqueEmail('feathers');
    await signUp(server, { email });
    const storage = new MemoryStorage();

    const client = feathersClient(storage);
    const result = (await client.authenticate({
      strategy: 'local',
      email,
      password: PASSWORD,
    })) as AuthenticationResult;
    expect(result).toMatchObject({
      accessToken: expect.any(String),
      authentication: { strategy: 'local' },
      user: { email },
    });
    expect(await storage.getItem('feathers-jwt')).toBe(result.accessToken);

    // A page reload: a new client with the same storage picks the session up again.
    const reloaded = feathersClient(storage);
    const resumed = (await reloaded.reAuthenticate()) as AuthenticationResult;
    expect(resumed).toMatchObject({ user: { email }, session: { id: result.session.id } });
    const me = (await reloaded.service('me').find()) as { email: string };
    expect(me.email).toBe(email);

    await reloaded.logout();
    expect(await storage.getItem('feathers-jwt')).toBeFalsy();
    const afterLogout = await server.api('GET', '/v1/apps/demo/chat/me', { token: result.accessToken });
    expect(afterLogout.body).toMatchObject({ error: { code: 'session_revoked' } });
  });

  it("rejects a wrong password with the server's error", async () => {
    const client = feathersClient(new MemoryStorage());
    await expect(
      client.authenticate({ strategy: 'local', email: uniqueEmail('nobody'), password: PASSWORD }),
    ).rejects.toMatchObject({
      error: { code: 'invalid_credentials', status: 401 },
    });
  });
});
