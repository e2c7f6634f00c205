import {
  ERROR_CODES,
  REALTIME_SUBPROTOCOL,
  type AuthenticatedFrame,
  type RefreshedFrame,
  type User,
} from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { AccessTokenService } from '../../src/auth/tokens/access-tokens.js';
import { SessionsRepository } from '../../src/store/repositories/sessions.js';
import { createApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { connect, connectWithToken, realtimeUrl, refusedUpgrade } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, signUpAndLogIn } from '../helpers/users.js';

describe.each(backends)('realtime handshake on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  it('logs in with the first frame through any enabled strategy, answering tokens, session and user', async () => {
    const { user, email } = await signUpAndLogIn(server);
    const client = await connect(server, { key: server.publishableKey });
    const authenticated = await client.request({ type: 'authenticate', strategy: 'local', email, password: PASSWORD });
    expect(authenticated).toMatchObject({
      type: 'authenticated',
      connectionId: expect.any(String),
      user: { id: user.id, email },
      session: { id: expect.any(String) },
      authentication: {
        strategy: 'local',
        accessTokenExpiresAt: expect.any(String),
        reconnectTokenExpiresAt: expect.any(String),
      },
      accessToken: expect.any(String),
      reconnectToken: expect.stringMatching(/^rt_/),
    });
    // The tokens are a login's: they work on REST.
    const token = (authenticated as { accessToken: string }).accessToken;
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token })).body).toMatchObject({ id: user.id });
    await client.close();
  });

  it('authenticates with an access token in the Authorization header of the upgrade, without new tokens', async () => {
    const { login, user } = await signUpAndLogIn(server);
    const client = await connect(server, { token: login.accessToken });
    const authenticated = await client.next('authenticated');
    expect(authenticated).toMatchObject({
      user: { id: user.id },
      session: { id: login.session.id },
      authentication: { strategy: 'access-token' },
    });
    expect(authenticated).not.toHaveProperty('accessToken');
    expect(authenticated).not.toHaveProperty('reconnectToken');
    await client.close();
  });

  it('authenticates with the access token as a subprotocol, as browsers must, and answers tessera.v1 only', async () => {
    const { login, user } = await signUpAndLogIn(server);
    const client = await connect(server, { protocols: [REALTIME_SUBPROTOCOL, `bearer.${login.accessToken}`] });
    expect(client.ws.protocol).toBe(REALTIME_SUBPROTOCOL);
    expect(await client.next('authenticated')).toMatchObject({ user: { id: user.id } });
    await client.close();
  });

  it('binds a frame login and a refresh by reconnect token to the records the login made: no verify of the token it just signed, no session re-read (issue 13)', async () => {
    const { user, email } = await signUpAndLogIn(server);
    const client = await connect(server, { key: server.publishableKey });
    // Pass-through spies on the server's own objects: they count, the real code runs.
    const verified = vi.spyOn(AccessTokenService.prototype, 'verify');
    const sessionReads = vi.spyOn(SessionsRepository.prototype, 'findById');
    const authenticated = vi.spyOn(server.tessera.services.sessions, 'authenticate');
    onTestFinished(() => [verified, sessionReads, authenticated].forEach((spy) => spy.mockRestore()));

    const login = await client.request<AuthenticatedFrame>({
      type: 'authenticate',
      strategy: 'local',
      email,
      password: PASSWORD,
    });
    expect(verified).not.toHaveBeenCalled();
    expect(sessionReads).not.toHaveBeenCalled();

    const refreshed = await client.request<RefreshedFrame>({ type: 'refresh', reconnectToken: login.reconnectToken });
    expect(verified).not.toHaveBeenCalled();
    expect(authenticated).not.toHaveBeenCalled();

    expect(login).toMatchObject({
      type: 'authenticated',
      user: { id: user.id },
      authentication: { strategy: 'local' },
    });
    expect(refreshed).toMatchObject({
      type: 'refreshed',
      session: login.session,
      authentication: { strategy: 'reconnect' },
    });
    // What the frames present is what the store holds: the same user as REST shows, the tokens work.
    const me = await server.api<User>('GET', '/v1/apps/demo/chat/me', { token: refreshed.accessToken! });
    expect(login.user).toEqual(me.body);
    expect(refreshed.user).toEqual(me.body);
    expect(Date.parse(refreshed.authentication.accessTokenExpiresAt)).toBeGreaterThan(server.clock.now());
    await client.close();
  });

  it('needs the app key for a frame login, as REST does; ?key= or X-Tessera-Key', async () => {
    const { email } = await signUpAndLogIn(server);
    const login = { type: 'authenticate', strategy: 'local', email, password: PASSWORD };
    const keyless = await connect(server);
    keyless.send(login);
    expect(await keyless.waitClosed()).toMatchObject({
      code: ERROR_CODES.missing_credentials.closeCode,
      error: 'missing_credentials',
    });

    const byHeader = await connect(server, { headers: { 'x-tessera-key': server.publishableKey } });
    expect(await byHeader.request(login)).toMatchObject({ type: 'authenticated' });
    await byHeader.close();

    const wrongKey = await connect(server, { key: 'pk_AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    wrongKey.send(login);
    expect(await wrongKey.waitClosed()).toMatchObject({ error: 'invalid_api_key' });
  });

  it('closes with the login error as close code: wrong password, unknown or disabled strategy, bad fields', async () => {
    const { email } = await signUpAndLogIn(server);
    const cases: [object, string][] = [
      [{ strategy: 'local', email, password: 'not the password' }, 'invalid_credentials'],
      [{ strategy: 'carrier-pigeon' }, 'unknown_strategy'],
      [{ strategy: 'anonymous' }, 'strategy_disabled'],
      [{ strategy: 'local', email, password: PASSWORD, extra: true }, 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const client = await connect(server, { key: server.publishableKey });
      client.send({ type: 'authenticate', ...body });
      const closed = await client.waitClosed();
      expect(closed, code).toMatchObject({
        error: code,
        code: ERROR_CODES[code as keyof typeof ERROR_CODES].closeCode,
      });
    }
  });

  it('closes a connection with a bad upgrade token: invalid_token, or token_expired (reconnect allowed)', async () => {
    const invalid = await connect(server, { token: 'not-a-jwt' });
    expect(await invalid.waitClosed()).toMatchObject({ error: 'invalid_token', code: 4113 });

    const { login } = await signUpAndLogIn(server);
    server.clock.advance(16 * 60_000);
    const expired = await connect(server, { token: login.accessToken });
    expect(await expired.waitClosed()).toMatchObject({
      error: 'token_expired',
      code: ERROR_CODES.token_expired.closeCode,
    });
    expect(expired.frames).toEqual([]);
  });

  it('refuses the upgrade of an unknown app or path with an HTTP error', async () => {
    const unknownApp = await refusedUpgrade(`${server.url.replace(/^http/, 'ws')}/v1/apps/demo/nope/realtime`);
    expect(unknownApp).toMatchObject({ status: 404, body: { error: { code: 'app_not_found' } } });
    const unknownPath = await refusedUpgrade(`${server.url.replace(/^http/, 'ws')}/v1/apps/demo/chat/elsewhere`);
    expect(unknownPath).toMatchObject({ status: 404, body: { error: { code: 'route_not_found' } } });
    const badHeader = await refusedUpgrade(realtimeUrl(server), { authorization: 'Basic abc' });
    expect(badHeader).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
  });

  it('closes with authentication_timeout (reconnect allowed) when no authentication comes within 10 s', async () => {
    const client = await connect(server);
    server.clock.advance(9_999);
    // Still open: it answers.
    expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    server.clock.advance(1);
    expect(await client.waitClosed()).toMatchObject({ code: 4016, error: 'authentication_timeout' });
  });

  it('keeps the connection on a bad frame, answering an error with the frame id', async () => {
    const client = await connect(server);
    client.ws.send('{not json');
    expect(await client.next('error')).toMatchObject({ code: 'invalid_json' });
    expect(await client.request({ type: 'teleport' })).toMatchObject({ type: 'error', code: 'invalid_request' });
    expect(await client.request({ type: 'ping', extra: 1 })).toMatchObject({
      type: 'error',
      code: 'invalid_request',
      details: [{ path: '/' }],
    });
    expect(await client.request({ type: 'presence.query' })).toMatchObject({
      type: 'error',
      code: 'missing_credentials',
    });
    expect(await client.request({ type: 'refresh', accessToken: 'x', reconnectToken: 'y' })).toMatchObject({
      type: 'error',
      code: 'invalid_request',
    });
    client.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    expect(await client.next('error')).toMatchObject({ code: 'invalid_request' });
    const numbered = await client.request({ type: 'ping' });
    expect(numbered).toMatchObject({ type: 'pong', serverTime: new Date(server.clock.now()).toISOString() });
    expect(client.isOpen).toBe(true);
    await client.close();
  });

  it('refuses a second authenticate on an authenticated connection', async () => {
    const { login } = await signUpAndLogIn(server);
    const client = await connectWithToken(server, login.accessToken);
    expect(
      await client.request({ type: 'authenticate', strategy: 'access-token', accessToken: login.accessToken }),
    ).toMatchObject({ type: 'error', code: 'invalid_request' });
    await client.close();
  });

  it("serves each app on its own path: another app's token does not open this one", async () => {
    const other = await createApp(server);
    const { login } = await signUpAndLogIn(server);
    const client = await connect(server, { app: other, token: login.accessToken });
    expect(await client.waitClosed()).toMatchObject({ error: 'invalid_token' });
  });
});
