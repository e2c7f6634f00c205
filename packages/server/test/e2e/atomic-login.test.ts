import type { AuthenticationResult } from '@tessera/protocol';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import { backends } from '../helpers/backends.js';
import { allowInserts, refuseInserts } from '../helpers/refused-inserts.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, signUp, signUpAndLogIn, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';

describe.each(backends)('a login that fails half-way on $name', (backend) => {
  let server: TestServer;
  let db: Kysely<Database>;
  beforeAll(async () => {
    server = await startTestServer(backend);
    db = server.tessera.services.store.db;
  });
  afterEach(() => allowInserts(db, backend.name, 'reconnect_tokens'));
  afterAll(() => server.close());

  const login = (body: Record<string, unknown>) =>
    server.api<AuthenticationResult>('POST', `${APP}/authentication`, { key: server.publishableKey, body });

  async function rowsOf(userId: string) {
    const sessions = await db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
    const tokens = await db
      .selectFrom('reconnect_tokens')
      .innerJoin('sessions', 'sessions.id', 'reconnect_tokens.session_id')
      .select('reconnect_tokens.id')
      .where('sessions.user_id', '=', userId)
      .execute();
    const user = await db
      .selectFrom('users')
      .select('last_login_at')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    return { sessions: sessions.length, reconnectTokens: tokens.length, lastLoginAt: user.last_login_at };
  }

  it('leaves no session, no token and no login stamp when the reconnect token cannot be written', async () => {
    const email = uniqueEmail('atomic');
    const user = await signUp(server, { email });
    await refuseInserts(db, backend.name, 'reconnect_tokens');

    const refused = await login({ strategy: 'local', email, password: PASSWORD });
    expect(refused.status).toBe(500);
    expect(refused.body).not.toHaveProperty('accessToken');
    expect(await rowsOf(user.id)).toEqual({ sessions: 0, reconnectTokens: 0, lastLoginAt: null });

    await allowInserts(db, backend.name, 'reconnect_tokens');
    const accepted = await login({ strategy: 'local', email, password: PASSWORD });
    expect(accepted.status).toBe(201);
    expect(await rowsOf(user.id)).toMatchObject({ sessions: 1, reconnectTokens: 1 });
  });

  it('leaves a presented reconnect token unspent when its successor cannot be written, so a retry resumes the session', async () => {
    const { user, login: first } = await signUpAndLogIn(server);
    server.clock.advance(1000);
    await refuseInserts(db, backend.name, 'reconnect_tokens');

    const refused = await login({ strategy: 'reconnect', token: first.reconnectToken });
    expect(refused.status).toBe(500);
    const token = await db
      .selectFrom('reconnect_tokens')
      .select(['used_at', 'superseded_at'])
      .where('session_id', '=', first.session.id)
      .executeTakeFirstOrThrow();
    expect(token).toEqual({ used_at: null, superseded_at: null });

    // Long past the grace period: a token spent without a successor would now count as reused.
    server.clock.advance(120_000);
    await allowInserts(db, backend.name, 'reconnect_tokens');
    const retry = await login({ strategy: 'reconnect', token: first.reconnectToken });
    expect(retry.status).toBe(201);
    expect(retry.body.session.id).toBe(first.session.id);
    expect((await server.api('GET', `${APP}/me`, { token: retry.body.accessToken })).status).toBe(200);
    expect(await rowsOf(user.id)).toMatchObject({ sessions: 1, reconnectTokens: 2 });
  });
});
