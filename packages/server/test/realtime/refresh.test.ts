import type { AuthenticatedFrame, AuthenticationResult, RefreshedFrame } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, demoApp, logInTo, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connect, connectWithToken } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD } from '../helpers/users.js';

describe.each(backends)('realtime expiry notice and in-band refresh on $name', (backend) => {
  let server: TestServer;
  let demo: TestApp;
  beforeAll(async () => {
    server = await startTestServer(backend);
    demo = demoApp(server);
  });
  afterAll(() => server.close());

  /** Moves the server's clock to `time` (ms since the epoch). */
  const advanceTo = (time: number) => server.clock.advance(time - server.clock.now());

  it('pushes session.expiring a minute before the access token expires, then closes with token_expired (reconnect allowed)', async () => {
    const { login } = await signUpAndLogInTo(server, demo);
    const client = await connect(server, { token: login.accessToken });
    const authenticated = await client.next('authenticated');
    const expiresAt = Date.parse(authenticated.authentication.accessTokenExpiresAt);
    expect(expiresAt).toBe(Date.parse(login.authentication.accessTokenExpiresAt));

    advanceTo(expiresAt - 60_001);
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    expect(client.frames.some((frame) => frame.type === 'session.expiring')).toBe(false);
    server.clock.advance(1);
    expect(await client.next('session.expiring')).toEqual({
      type: 'session.expiring',
      reason: 'access_token',
      expiresAt: new Date(expiresAt).toISOString(),
    });

    advanceTo(expiresAt);
    expect(await client.waitClosed()).toMatchObject({ code: 4000, error: 'token_expired' });
  });

  it('refreshes with the reconnect token without dropping the socket: new tokens, same session', async () => {
    const { login, user } = await signUpAndLogInTo(server, demo);
    const client = await connectWithToken(server, login.accessToken);
    const firstExpiry = Date.parse(login.authentication.accessTokenExpiresAt);
    advanceTo(firstExpiry - 30_000);
    await client.next('session.expiring');

    const refreshed = await client.request<RefreshedFrame>({ type: 'refresh', reconnectToken: login.reconnectToken });
    expect(refreshed).toMatchObject({
      type: 'refreshed',
      user: { id: user.id },
      session: { id: login.session.id },
      authentication: { strategy: 'reconnect' },
      accessToken: expect.any(String),
      reconnectToken: expect.stringMatching(/^rt_/),
    });
    expect(refreshed.reconnectToken).not.toBe(login.reconnectToken);
    const secondExpiry = Date.parse(refreshed.authentication.accessTokenExpiresAt);
    expect(secondExpiry).toBeGreaterThan(firstExpiry);

    // Past the first token's expiry the connection goes on, and the new token works on REST.
    advanceTo(firstExpiry + 1000);
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    expect(client.isOpen).toBe(true);
    expect((await server.api('GET', `${demo.path}/me`, { token: refreshed.accessToken! })).status).toBe(200);
    // The next notice is for the new token.
    advanceTo(secondExpiry - 60_000);
    expect(await client.next('session.expiring')).toMatchObject({
      reason: 'access_token',
      expiresAt: new Date(secondExpiry).toISOString(),
    });
    await client.close();
  });

  it('refreshes with an access token, which may hold another session of the same user', async () => {
    const { login, email } = await signUpAndLogInTo(server, demo);
    const client = await connectWithToken(server, login.accessToken);
    server.clock.advance(60_000);
    const second = await logInTo(server, demo, { strategy: 'local', email, password: PASSWORD });

    const refreshed = await client.request<RefreshedFrame>({ type: 'refresh', accessToken: second.accessToken });
    expect(refreshed).toMatchObject({
      type: 'refreshed',
      session: { id: second.session.id },
      authentication: { strategy: 'access-token', accessTokenExpiresAt: second.authentication.accessTokenExpiresAt },
    });
    expect(refreshed).not.toHaveProperty('accessToken');

    // The socket follows its new session: ending the old one leaves it open, ending the new one closes it.
    await server.api('DELETE', `${demo.path}/authentication`, { token: login.accessToken });
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await server.api('DELETE', `${demo.path}/authentication`, { token: second.accessToken });
    expect(await client.waitClosed()).toMatchObject({ error: 'session_revoked', reason: 'session_revoked:logout' });
  });

  it('answers a refresh with a bad token with an error frame and keeps the connection and its credentials', async () => {
    const { login } = await signUpAndLogInTo(server, demo);
    const client = await connectWithToken(server, login.accessToken);
    expect(
      await client.request({
        type: 'refresh',
        reconnectToken: 'rt_AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      }),
    ).toMatchObject({ type: 'error', code: 'invalid_token' });
    expect(await client.request({ type: 'refresh', accessToken: 'garbage' })).toMatchObject({
      type: 'error',
      code: 'invalid_token',
    });
    expect(await client.request({ type: 'refresh', reconnectToken: login.reconnectToken })).toMatchObject({
      type: 'refreshed',
    });
    await client.close();
  });

  it("closes with identity_mismatch (do not reconnect) on a refresh naming another user, without spending that user's token", async () => {
    const mine = await signUpAndLogInTo(server, demo);
    const theirs = await signUpAndLogInTo(server, demo);

    const byReconnect = await connectWithToken(server, mine.login.accessToken);
    byReconnect.send({ type: 'refresh', reconnectToken: theirs.login.reconnectToken });
    expect(await byReconnect.waitClosed()).toMatchObject({
      code: 4162,
      error: 'identity_mismatch',
      reason: 'identity_mismatch:other_user',
    });
    const stillTheirs = await server.api<AuthenticationResult>('POST', `${demo.path}/authentication`, {
      key: demo.publishableKey,
      body: { strategy: 'reconnect', token: theirs.login.reconnectToken },
    });
    expect(stillTheirs.status).toBe(201);

    const byAccess = await connectWithToken(server, mine.login.accessToken);
    byAccess.send({ type: 'refresh', accessToken: theirs.login.accessToken });
    expect(await byAccess.waitClosed()).toMatchObject({ code: 4162, reason: 'identity_mismatch:other_user' });
  });

  it("closes with identity_mismatch on a refresh with another app's token", async () => {
    const other = await createApp(server);
    const elsewhere = await signUpAndLogInTo(server, other);
    const { login } = await signUpAndLogInTo(server, demo);

    for (const refresh of [
      { accessToken: elsewhere.login.accessToken },
      { reconnectToken: elsewhere.login.reconnectToken },
    ]) {
      const client = await connectWithToken(server, login.accessToken);
      client.send({ type: 'refresh', ...refresh });
      expect(await client.waitClosed()).toMatchObject({ code: 4162, reason: 'identity_mismatch:other_app' });
    }
  });

  it('logs in by frame and refreshes by frame with the tokens it answered', async () => {
    const { email } = await signUpAndLogInTo(server, demo);
    const client = await connect(server, { key: demo.publishableKey });
    const authenticated = await client.request<AuthenticatedFrame>({
      type: 'authenticate',
      strategy: 'local',
      email,
      password: PASSWORD,
    });
    const refreshed = await client.request<RefreshedFrame>({
      type: 'refresh',
      reconnectToken: authenticated.reconnectToken,
    });
    expect(refreshed).toMatchObject({ type: 'refreshed', session: { id: authenticated.session.id } });
    // The spent token, presented again after the grace period, is reuse: the session ends, and its socket with it.
    server.clock.advance(31_000);
    client.send({ type: 'refresh', reconnectToken: authenticated.reconnectToken });
    expect(await client.waitClosed()).toMatchObject({ code: 4117, error: 'reconnect_token_reused' });
  });
});
