import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoApp, logInTo, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connectWithToken } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD } from '../helpers/users.js';

describe.each(backends)('revocation reaches live sockets on $name', (backend) => {
  let server: TestServer;
  let demo: TestApp;
  beforeAll(async () => {
    server = await startTestServer(backend);
    demo = demoApp(server);
  });
  afterAll(() => server.close());

  const secret = () => ({ key: demo.secretKey });

  it('closes the socket of a session logged out over REST with session_revoked, before the logout call answers', async () => {
    const { login } = await signUpAndLogInTo(server, demo);
    const client = await connectWithToken(server, login.accessToken);
    let closedFirst = false;
    void client.closed.then(() => (closedFirst = true));
    const logout = await server.api('DELETE', `${demo.path}/authentication`, { token: login.accessToken });
    expect(logout.status).toBe(200);
    expect(await client.waitClosed()).toEqual({
      code: 4115,
      reason: 'session_revoked:logout',
      error: 'session_revoked',
    });
    expect(closedFirst).toBe(true);
  });

  it("closes only the revoked session's sockets: another session of the same user stays", async () => {
    const { login, email } = await signUpAndLogInTo(server, demo);
    const other = await logInTo(server, demo, { strategy: 'local', email, password: PASSWORD });
    const [a1, a2, b] = await Promise.all([
      connectWithToken(server, login.accessToken),
      connectWithToken(server, login.accessToken),
      connectWithToken(server, other.accessToken),
    ]);
    expect(
      (await server.api('DELETE', `${demo.path}/me/sessions/${login.session.id}`, { token: other.accessToken })).status,
    ).toBeLessThan(300);
    expect(await a1.waitClosed()).toMatchObject({ error: 'session_revoked' });
    expect(await a2.waitClosed()).toMatchObject({ error: 'session_revoked' });
    expect(await b.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await b.close();
  });

  it("closes the user's other sessions' sockets on a password change, with the reason; the changing session stays", async () => {
    const { login, email } = await signUpAndLogInTo(server, demo);
    const other = await logInTo(server, demo, { strategy: 'local', email, password: PASSWORD });
    const [kept, ended] = await Promise.all([
      connectWithToken(server, login.accessToken),
      connectWithToken(server, other.accessToken),
    ]);
    const change = await server.api('PATCH', `${demo.path}/me`, {
      token: login.accessToken,
      body: { oldPassword: PASSWORD, password: 'another horse battery staple' },
    });
    expect(change.status).toBe(200);
    expect(await ended.waitClosed()).toMatchObject({ code: 4115, reason: 'session_revoked:password_changed' });
    expect(await kept.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await kept.close();
  });

  it('closes every socket of a disabled user with user_disabled', async () => {
    const { login, user } = await signUpAndLogInTo(server, demo);
    const client = await connectWithToken(server, login.accessToken);
    expect(
      (await server.api('PATCH', `${demo.path}/users/${user.id}`, { ...secret(), body: { disabled: true } })).status,
    ).toBe(200);
    expect(await client.waitClosed()).toMatchObject({ code: 4116, error: 'user_disabled' });
  });

  it('closes every socket of a deleted user with session_revoked, reason user_deleted', async () => {
    const { login, user } = await signUpAndLogInTo(server, demo);
    const client = await connectWithToken(server, login.accessToken);
    expect((await server.api('DELETE', `${demo.path}/users/${user.id}`, secret())).status).toBeLessThan(300);
    expect(await client.waitClosed()).toMatchObject({ code: 4115, reason: 'session_revoked:user_deleted' });
  });

  it('closes the socket of a session whose reconnect token was reused, with reconnect_token_reused', async () => {
    const { login } = await signUpAndLogInTo(server, demo);
    const reconnect = (token: string) =>
      server.api<AuthenticationResult>('POST', `${demo.path}/authentication`, {
        key: demo.publishableKey,
        body: { strategy: 'reconnect', token },
      });
    const next = await reconnect(login.reconnectToken);
    const client = await connectWithToken(server, next.body.accessToken);
    server.clock.advance(31_000);
    expect((await reconnect(login.reconnectToken)).body).toMatchObject({ error: { code: 'reconnect_token_reused' } });
    expect(await client.waitClosed()).toMatchObject({ code: 4117, error: 'reconnect_token_reused' });
  });

  it("closes every socket of the user when the app's backend sets a new password (secret key)", async () => {
    const { login, user } = await signUpAndLogInTo(server, demo);
    const client = await connectWithToken(server, login.accessToken);
    expect(
      (
        await server.api('PATCH', `${demo.path}/users/${user.id}`, {
          ...secret(),
          body: { password: 'reset horse battery staple' },
        })
      ).status,
    ).toBe(200);
    expect(await client.waitClosed()).toMatchObject({ code: 4115, reason: 'session_revoked:password_changed' });
  });
});
