import type { AuthenticationResult, User } from '@tessera/protocol';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import { backends } from '../helpers/backends.js';
import { allowInserts, refuseInserts } from '../helpers/refused-inserts.js';
import { json, LoopbackHttpServer } from '../helpers/http-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const APP = '/v1/apps/demo/chat';

// Issue 6: no half-written rows. A provisioned user and its identity link are written together.
describe.each(backends)('a first external login that fails half-way on $name', (backend) => {
  let server: TestServer;
  let db: Kysely<Database>;
  const idp = new LoopbackHttpServer();

  beforeAll(async () => {
    // The identity provider vouches for any token, as the user named after it.
    await idp.start((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const { token } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token: string };
        json(200, { id: `subject-${token}`, login: token, email: `${token}@idp.example.com` })(response);
      });
    });
    server = await startTestServer(backend);
    db = server.tessera.services.store.db;
    const custom = { enabled: true, url: `${idp.url}/verify`, autoProvision: true };
    expect(
      (
        await server.api('PATCH', `/v1/admin/apps/demo/chat`, {
          token: server.adminToken,
          body: { settings: { strategies: { custom } } },
        })
      ).status,
    ).toBe(200);
  });
  afterEach(() => allowInserts(db, backend.name, 'user_identities'));
  afterAll(async () => {
    await server.close();
    await idp.close();
  });

  const login = (token: string) =>
    server.api<AuthenticationResult>('POST', `${APP}/authentication`, {
      key: server.publishableKey,
      body: { strategy: 'custom', token },
    });

  it('leaves no user behind when the identity cannot be linked, so the retry gets the username and email', async () => {
    await refuseInserts(db, backend.name, 'user_identities');
    const refused = await login('ada');
    expect(refused.status).toBe(500);
    expect(refused.body).not.toHaveProperty('accessToken');
    expect(await db.selectFrom('users').select('id').where('email_key', '=', 'ada@idp.example.com').execute()).toEqual(
      [],
    );

    await allowInserts(db, backend.name, 'user_identities');
    const accepted = await login('ada');
    expect(accepted.status).toBe(201);
    // Nothing held them: the user the retry made has what the provider sent.
    expect(accepted.body.user).toMatchObject<Partial<User>>({
      kind: 'external',
      username: 'ada',
      email: 'ada@idp.example.com',
    });
    expect(
      await db.selectFrom('users').select('id').where('email_key', '=', 'ada@idp.example.com').execute(),
    ).toHaveLength(1);
  });
});
