import type { AuthenticationResult, User } from '@tessera/protocol';
import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import { backends, type Backend } from '../helpers/backends.js';
import { json, LoopbackHttpServer } from '../helpers/http-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const APP = '/v1/apps/demo/chat';

/** A real failure half-way through a first external login: a trigger refuses every new identity link. */
const REFUSE: Record<Backend['name'], string[]> = {
  sqlite: [`create trigger refuse_identities before insert on user_identities begin select raise(abort, 'refused by the test'); end`],
  postgres: [
    `create function refuse_identities() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`,
    `create trigger refuse_identities before insert on user_identities for each row execute function refuse_identities()`,
  ],
};
const ALLOW: Record<Backend['name'], string[]> = {
  sqlite: ['drop trigger if exists refuse_identities'],
  postgres: ['drop trigger if exists refuse_identities on user_identities', 'drop function if exists refuse_identities()'],
};

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
    expect((await server.api('PATCH', `/v1/admin/apps/demo/chat`, { token: server.adminToken, body: { settings: { strategies: { custom } } } })).status).toBe(200);
  });
  afterEach(() => run(ALLOW[backend.name]));
  afterAll(async () => {
    await server.close();
    await idp.close();
  });

  async function run(statements: string[]): Promise<void> {
    for (const statement of statements) await sql.raw(statement).execute(db);
  }

  const login = (token: string) => server.api<AuthenticationResult>('POST', `${APP}/authentication`, { key: server.publishableKey, body: { strategy: 'custom', token } });

  it('leaves no user behind when the identity cannot be linked, so the retry gets the username and email', async () => {
    await run(REFUSE[backend.name]);
    const refused = await login('ada');
    expect(refused.status).toBe(500);
    expect(refused.body).not.toHaveProperty('accessToken');
    expect(await db.selectFrom('users').select('id').where('email_key', '=', 'ada@idp.example.com').execute()).toEqual([]);

    await run(ALLOW[backend.name]);
    const accepted = await login('ada');
    expect(accepted.status).toBe(201);
    // Nothing held them: the user the retry made has what the provider sent.
    expect(accepted.body.user).toMatchObject<Partial<User>>({ kind: 'external', username: 'ada', email: 'ada@idp.example.com' });
    expect(await db.selectFrom('users').select('id').where('email_key', '=', 'ada@idp.example.com').execute()).toHaveLength(1);
  });
});
