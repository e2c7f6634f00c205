import type { AuthenticationResult, Session, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, logInTo, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connectWithToken } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD } from '../helpers/users.js';

type Failure = { error: { code: string; status: number; message: string; details?: { reason?: string } } };
type AdminApp = { sessionsRevokedBefore: string | null };
type Cutoff = { before: string; revoked: number };

describe.each(backends)('ending sessions from the backend on $name (issue 12)', (backend) => {
  let server: TestServer;
  let app: TestApp;
  beforeAll(async () => {
    server = await startTestServer(backend);
    app = await createApp(server);
  });
  afterAll(() => server.close());

  const me = (token: string, target: TestApp = app) => server.api<Failure>('GET', `${target.path}/me`, { token });
  const adminApp = (target: TestApp) =>
    server.api<AdminApp>('GET', `/v1/admin/apps/${target.namespace}/${target.name}`, { token: server.adminToken });
  const revokeBefore = (target: TestApp, body?: Record<string, unknown>, token = server.adminToken) =>
    server.api<Cutoff & Failure>('POST', `/v1/admin/apps/${target.namespace}/${target.name}/sessions/revoke-before`, {
      token,
      ...(body === undefined ? {} : { body }),
    });

  /** A user with three sessions: the first from signup, two more logins. */
  async function userWithThreeSessions(target: TestApp = app): Promise<{ user: User; logins: AuthenticationResult[] }> {
    const { user, login, email } = await signUpAndLogInTo(server, target);
    const more = [
      await logInTo(server, target, { strategy: 'local', email, password: PASSWORD }),
      await logInTo(server, target, { strategy: 'local', email, password: PASSWORD }),
    ];
    return { user, logins: [login, ...more] };
  }

  it("DELETE /me/sessions ends every session of the user, the caller's too, and closes their sockets", async () => {
    const { logins } = await userWithThreeSessions();
    const sockets = await Promise.all(logins.map((login) => connectWithToken(server, login.accessToken, app)));
    const ended = await server.api<{ revoked: number }>('DELETE', `${app.path}/me/sessions`, {
      token: logins[0]!.accessToken,
    });
    expect(ended.status).toBe(200);
    expect(ended.body).toEqual({ revoked: 3 });
    for (const socket of sockets)
      expect(await socket.waitClosed()).toMatchObject({ error: 'session_revoked', reason: 'session_revoked:logout' });
    for (const login of logins)
      expect((await me(login.accessToken)).body.error).toMatchObject({
        code: 'session_revoked',
        details: { reason: 'logout' },
      });
  });

  it("DELETE /me/sessions?except=current keeps the caller's session and its socket", async () => {
    const { logins } = await userWithThreeSessions();
    const [caller, ...others] = logins as [AuthenticationResult, ...AuthenticationResult[]];
    const callerSocket = await connectWithToken(server, caller.accessToken, app);
    const otherSocket = await connectWithToken(server, others[0]!.accessToken, app);
    const ended = await server.api<{ revoked: number }>('DELETE', `${app.path}/me/sessions?except=current`, {
      token: caller.accessToken,
    });
    expect(ended.body).toEqual({ revoked: 2 });
    expect(await otherSocket.waitClosed()).toMatchObject({ error: 'session_revoked' });
    expect((await me(caller.accessToken)).status).toBe(200);
    expect(callerSocket.isOpen).toBe(true);
    const listed = await server.api<{ items: Session[] }>('GET', `${app.path}/me/sessions`, {
      token: caller.accessToken,
    });
    expect(listed.body.items.map((session) => session.id)).toEqual([caller.session.id]);
    await callerSocket.close();
  });

  it('refuses ?except= with anything but current, ending nothing', async () => {
    const { logins } = await userWithThreeSessions();
    const refused = await server.api<Failure>('DELETE', `${app.path}/me/sessions?except=everything`, {
      token: logins[0]!.accessToken,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_request');
    for (const login of logins) expect((await me(login.accessToken)).status).toBe(200);
  });

  it("lists a user's sessions for the secret key, each with its open realtime connections", async () => {
    const { user, logins } = await userWithThreeSessions();
    const sockets = [
      await connectWithToken(server, logins[0]!.accessToken, app),
      await connectWithToken(server, logins[0]!.accessToken, app),
      await connectWithToken(server, logins[1]!.accessToken, app),
    ];
    const listed = await server.api<{ items: Session[] }>('GET', `${app.path}/users/${user.id}/sessions`, {
      key: app.secretKey,
    });
    expect(listed.status).toBe(200);
    const counts = Object.fromEntries(listed.body.items.map((session) => [session.id, session.connections]));
    expect(counts).toEqual({ [logins[0]!.session.id]: 2, [logins[1]!.session.id]: 1, [logins[2]!.session.id]: 0 });
    expect(listed.body.items.every((session) => session.current === undefined)).toBe(true);
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  it('ends one session of a user for the secret key, and only that one', async () => {
    const { user, logins } = await userWithThreeSessions();
    const socket = await connectWithToken(server, logins[1]!.accessToken, app);
    const path = `${app.path}/users/${user.id}/sessions/${logins[1]!.session.id}`;
    expect((await server.api('DELETE', path, { key: app.secretKey })).status).toBe(204);
    expect(await socket.waitClosed()).toMatchObject({ error: 'session_revoked', reason: 'session_revoked:revoked' });
    expect((await me(logins[1]!.accessToken)).status).toBe(401);
    expect((await me(logins[0]!.accessToken)).status).toBe(200);
    // Again, or a session of another user: not found, and nothing else changes.
    expect((await server.api<Failure>('DELETE', path, { key: app.secretKey })).body.error.code).toBe(
      'session_not_found',
    );
    const other = await userWithThreeSessions();
    const foreign = await server.api<Failure>(
      'DELETE',
      `${app.path}/users/${user.id}/sessions/${other.logins[0]!.session.id}`,
      { key: app.secretKey },
    );
    expect(foreign.status).toBe(404);
    expect((await me(other.logins[0]!.accessToken)).status).toBe(200);
  });

  it('ends every session of a user for the secret key; the user may log in again', async () => {
    const { user, logins } = await userWithThreeSessions();
    const socket = await connectWithToken(server, logins[2]!.accessToken, app);
    const ended = await server.api<{ revoked: number }>('DELETE', `${app.path}/users/${user.id}/sessions`, {
      key: app.secretKey,
    });
    expect(ended.body).toEqual({ revoked: 3 });
    expect(await socket.waitClosed()).toMatchObject({ error: 'session_revoked', reason: 'session_revoked:revoked' });
    for (const login of logins) expect((await me(login.accessToken)).status).toBe(401);
    await logInTo(server, app, { strategy: 'local', email: user.email, password: PASSWORD });
  });

  it("needs the secret key for a user's sessions: no key, the publishable key or a user token are refused", async () => {
    const { user, logins } = await userWithThreeSessions();
    const base = `${app.path}/users/${user.id}/sessions`;
    const calls: [string, string][] = [
      ['GET', base],
      ['DELETE', base],
      ['DELETE', `${base}/${logins[0]!.session.id}`],
    ];
    for (const [method, path] of calls) {
      const anonymous = await server.api<Failure>(method, path);
      expect(anonymous.status, `${method} ${path} without credentials`).toBe(401);
      const publishable = await server.api<Failure>(method, path, { key: app.publishableKey });
      expect(publishable.status).toBe(403);
      expect(publishable.body.error.code).toBe('forbidden');
      const userToken = await server.api<Failure>(method, path, { token: logins[0]!.accessToken });
      expect(userToken.status).toBe(401);
      const otherApp = await createApp(server);
      expect((await server.api<Failure>(method, path, { key: otherApp.secretKey })).body.error.code).toBe(
        'invalid_api_key',
      );
    }
    for (const login of logins) expect((await me(login.accessToken)).status).toBe(200);
    expect(
      (await server.api<Failure>('GET', `${app.path}/users/nobody/sessions`, { key: app.secretKey })).body.error.code,
    ).toBe('user_not_found');
  });

  it('kill switch: ends every session of the app started before the moment, for good, and keeps the moment on the app', async () => {
    const target = await createApp(server);
    const old = await userWithThreeSessions(target);
    const socket = await connectWithToken(server, old.logins[0]!.accessToken, target);
    // A login whose session is being written while the sweep runs: created before T, stored after it.
    const services = server.tessera.services;
    const appRecord = await services.apps.getApp(target.namespace, target.name);
    const startedAt = server.clock.now();
    server.clock.advance(1000);
    const bystander = await createApp(server);
    const unaffected = await signUpAndLogInTo(server, bystander);

    const cut = await server.api<Cutoff>(
      'POST',
      `/v1/admin/apps/${target.namespace}/${target.name}/sessions/revoke-before`,
      { token: server.adminToken, body: {} },
    );
    expect(cut.status).toBe(200);
    expect(cut.body).toEqual({ before: new Date(server.clock.now()).toISOString(), revoked: 3 });
    // The login read the time before the sweep, and writes after it.
    const now = vi.spyOn(server.clock, 'now').mockReturnValue(startedAt);
    const racing = await services.sessions
      .start(appRecord, await services.users.get(appRecord, old.user.id), 'local', { userAgent: null, ip: null })
      .finally(() => now.mockRestore());

    expect(await socket.waitClosed()).toMatchObject({
      error: 'session_revoked',
      reason: 'session_revoked:revoked_before',
    });
    for (const accessToken of [...old.logins.map((login) => login.accessToken), racing.accessToken]) {
      const answer = await server.api<Failure>('GET', `${target.path}/me`, { token: accessToken });
      expect(answer.status).toBe(401);
      expect(answer.body.error).toMatchObject({ code: 'session_revoked', details: { reason: 'revoked_before' } });
    }
    // Its reconnect token resumes nothing either, and the other app is untouched.
    const resumed = await server.api<Failure>('POST', `${target.path}/authentication`, {
      key: target.publishableKey,
      body: { strategy: 'reconnect', token: racing.reconnectToken },
    });
    expect(resumed.body.error.code).toBe('session_revoked');
    expect((await server.api('GET', `${bystander.path}/me`, { token: unaffected.login.accessToken })).status).toBe(200);
    // A new login works at once.
    server.clock.advance(1);
    const fresh = await logInTo(server, target, { strategy: 'local', email: old.user.email, password: PASSWORD });
    expect((await server.api('GET', `${target.path}/me`, { token: fresh.accessToken })).status).toBe(200);
    const shown = await server.api<AdminApp>('GET', `/v1/admin/apps/${target.namespace}/${target.name}`, {
      token: server.adminToken,
    });
    expect(shown.body.sessionsRevokedBefore).toBe(cut.body.before);
  });

  it('kill switch: a moment is only moved forward, a future one is refused, and the admin token is required', async () => {
    const target = await createApp(server);
    const { logins } = await userWithThreeSessions(target);
    const now = server.clock.now();
    const first = await revokeBefore(target, { before: new Date(now - 60_000).toISOString() });
    expect(first.status).toBe(200);
    expect(first.body.revoked).toBe(0);
    expect((await me(logins[0]!.accessToken, target)).status).toBe(200);
    const earlier = await revokeBefore(target, { before: new Date(now - 3_600_000).toISOString() });
    expect(earlier.body.before).toBe(new Date(now - 60_000).toISOString());
    expect((await adminApp(target)).body.sessionsRevokedBefore).toBe(new Date(now - 60_000).toISOString());

    const future = await revokeBefore(target, { before: new Date(now + 60_000).toISOString() });
    expect(future.status).toBe(400);
    expect(future.body.error.code).toBe('invalid_request');
    expect((await revokeBefore(target, { before: 'yesterday' })).status).toBe(400);
    for (const token of [target.secretKey, logins[0]!.accessToken, 'adm_nope.nope'])
      expect((await revokeBefore(target, {}, token)).status).toBe(401);
    expect((await adminApp(target)).body.sessionsRevokedBefore).toBe(new Date(now - 60_000).toISOString());
    for (const login of logins) expect((await me(login.accessToken, target)).status).toBe(200);

    // No body at all means now, as `{}` does: the sessions started before now end.
    server.clock.advance(1);
    const bare = await revokeBefore(target);
    expect(bare.status).toBe(200);
    expect(bare.body).toEqual({ before: new Date(now + 1).toISOString(), revoked: 3 });
    for (const login of logins) expect((await me(login.accessToken, target)).status).toBe(401);
  });
});
