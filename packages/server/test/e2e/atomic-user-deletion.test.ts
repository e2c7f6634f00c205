import type { AuthenticationResult, CreatedAuthToken } from '@tessera/protocol';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import { createApp, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connect, connectWithToken } from '../helpers/realtime.js';
import { allowWrites, refuseWrites } from '../helpers/refused-inserts.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type ErrorAnswer = { error: { code: string; details?: unknown } };

// No half-written rows: a user's sessions end and its row goes in one transaction.
describe.each(backends)('deleting a user on $name', (backend) => {
  let server: TestServer;
  let db: Kysely<Database>;
  let app: TestApp;
  beforeAll(async () => {
    server = await startTestServer(backend);
    db = server.tessera.services.store.db;
    app = await createApp(server, {
      strategies: { 'auth-token': { enabled: true }, anonymous: { enabled: true, retention: 0 } },
    });
  });
  afterEach(() => allowWrites(db, backend.name, 'users', 'delete'));
  afterAll(() => server.close());

  const secret = () => ({ key: app.secretKey });
  const deleteUser = (id: string) => server.api('DELETE', `${app.path}/users/${id}`, secret());
  const me = (token: string) => server.api<ErrorAnswer>('GET', `${app.path}/me`, { token });
  const login = (body: Record<string, unknown>) =>
    server.api<AuthenticationResult & ErrorAnswer>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body,
    });

  async function rowsOf(userId: string) {
    const count = async (table: 'users' | 'sessions' | 'auth_tokens') =>
      (
        await db
          .selectFrom(table)
          .select('app_id')
          .where(table === 'users' ? 'id' : 'user_id', '=', userId)
          .execute()
      ).length;
    return { users: await count('users'), sessions: await count('sessions'), authTokens: await count('auth_tokens') };
  }

  it('that fails half-way leaves the user, its sessions, its socket and its tokens working; a retry deletes them all', async () => {
    const { user, login: first } = await signUpAndLogInTo(server, app);
    const authToken = await server.api<CreatedAuthToken>('POST', `${app.path}/users/${user.id}/auth-tokens`, {
      ...secret(),
      body: {},
    });
    expect(authToken.status).toBe(201);
    const socket = await connectWithToken(server, first.accessToken, app);

    await refuseWrites(db, backend.name, 'users', 'delete');
    expect((await deleteUser(user.id)).status).toBe(500);
    expect(await rowsOf(user.id)).toEqual({ users: 1, sessions: 1, authTokens: 1 });
    expect((await me(first.accessToken)).status).toBe(200);
    // Nobody was told of a revocation that did not commit: the socket is still open.
    expect(await socket.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    const resumed = await login({ strategy: 'reconnect', token: first.reconnectToken });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(201);
    expect((await login({ strategy: 'auth-token', token: authToken.body.token })).status).toBe(201);

    await allowWrites(db, backend.name, 'users', 'delete');
    expect((await deleteUser(user.id)).status).toBe(204);
    expect(await socket.waitClosed()).toMatchObject({ code: 4115, reason: 'session_revoked:user_deleted' });
    expect(await rowsOf(user.id)).toEqual({ users: 0, sessions: 0, authTokens: 0 });
    expect((await login({ strategy: 'auth-token', token: authToken.body.token })).body.error.code).toBe(
      'invalid_token',
    );
    expect((await login({ strategy: 'reconnect', token: resumed.body.reconnectToken })).body.error.code).toBe(
      'invalid_token',
    );
  });

  it('answers its access token session_revoked (user_deleted) over REST, as its socket was closed', async () => {
    const { user, login: held } = await signUpAndLogInTo(server, app);
    const socket = await connectWithToken(server, held.accessToken, app);
    expect((await deleteUser(user.id)).status).toBe(204);
    expect(await socket.waitClosed()).toEqual({
      code: 4115,
      reason: 'session_revoked:user_deleted',
      error: 'session_revoked',
    });

    const rest = await me(held.accessToken);
    expect(rest.status).toBe(401);
    expect(rest.body).toMatchObject({ error: { code: 'session_revoked', details: { reason: 'user_deleted' } } });
    // A socket opened with the token afterwards hears the same.
    const late = await connect(server, { app, token: held.accessToken });
    expect(await late.waitClosed()).toEqual({
      code: 4115,
      reason: 'session_revoked:user_deleted',
      error: 'session_revoked',
    });
  });

  it('answers the same for a user the clean-up removed (an ended anonymous user): it was deleted too', async () => {
    const anonymous = await login({ strategy: 'anonymous' });
    expect(anonymous.status).toBe(201);
    expect(
      (await server.api('DELETE', `${app.path}/authentication`, { token: anonymous.body.accessToken })).status,
    ).toBe(200);
    expect((await me(anonymous.body.accessToken)).body.error.code).toBe('user_ended');

    expect((await server.tessera.services.maintenance.run()).removedExpired).toBeGreaterThanOrEqual(1);
    expect(await rowsOf(anonymous.body.user.id)).toEqual({ users: 0, sessions: 0, authTokens: 0 });
    expect((await me(anonymous.body.accessToken)).body).toMatchObject({
      error: { code: 'session_revoked', details: { reason: 'user_deleted' } },
    });
  });
});
