import type { AuthenticationResult, User } from '@tessera/protocol';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { allowWrites, refuseWrites } from '../helpers/refused-inserts.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

type ErrorAnswer = { error: { code: string; details?: unknown } };

const FAILURES = [
  { step: 'its new session cannot be written', table: 'reconnect_tokens', statement: 'insert' },
  { step: 'its anonymous session cannot be ended', table: 'sessions', statement: 'update' },
] as const;

// No half-written rows: an upgrade registers the user, starts its new session and ends
// its anonymous ones in one transaction.
describe.each(backends)('an anonymous upgrade that fails half-way on $name', (backend) => {
  let server: TestServer;
  let db: Kysely<Database>;
  let app: TestApp;
  beforeAll(async () => {
    server = await startTestServer(backend);
    db = server.tessera.services.store.db;
    app = await createApp(server, { strategies: { anonymous: { enabled: true } } });
  });
  afterEach(async () => {
    for (const { table, statement } of FAILURES) await allowWrites(db, backend.name, table, statement);
  });
  afterAll(() => server.close());

  const me = (token: string) => server.api<User & ErrorAnswer>('GET', `${app.path}/me`, { token });
  const upgrade = (token: string, body: Record<string, unknown>) =>
    server.api<AuthenticationResult & ErrorAnswer>('POST', `${app.path}/me/upgrade`, { token, body });
  const holdersOf = (email: string, username: string) =>
    db
      .selectFrom('users')
      .select('id')
      .where((eb) => eb.or([eb('email_key', '=', email), eb('username_key', '=', username)]))
      .execute();

  it.each(FAILURES)(
    'leaves the anonymous user and its session usable, and its login free, when $step',
    async ({ table, statement }) => {
      const anonymous = await server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
        key: app.publishableKey,
        body: { strategy: 'anonymous', displayName: 'Clark' },
      });
      expect(anonymous.status).toBe(201);
      const { accessToken, user } = anonymous.body;
      const login = {
        email: uniqueEmail('clark'),
        username: `clark-${user.id.slice(-8)}`.toLowerCase(),
        password: PASSWORD,
      };

      await refuseWrites(db, backend.name, table, statement);
      const refused = await upgrade(accessToken, login);
      expect(refused.status).toBe(500);
      expect(refused.body).not.toHaveProperty('accessToken');
      expect((await me(accessToken)).body).toMatchObject({
        id: user.id,
        kind: 'anonymous',
        email: null,
        username: null,
      });
      expect(await holdersOf(login.email, login.username)).toEqual([]);

      await allowWrites(db, backend.name, table, statement);
      const upgraded = await upgrade(accessToken, login);
      expect(upgraded.status, JSON.stringify(upgraded.body)).toBe(200);
      expect(upgraded.body.user).toMatchObject({
        id: user.id,
        kind: 'registered',
        email: login.email,
        username: login.username,
      });
      expect((await me(upgraded.body.accessToken)).body).toMatchObject({ id: user.id, kind: 'registered' });
      expect((await me(accessToken)).body).toMatchObject({
        error: { code: 'session_revoked', details: { reason: 'user_upgraded' } },
      });
    },
  );
});
