import type { Session, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../server/test/helpers/backends.js';
import { handMade } from '../../server/test/helpers/jwt.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import {
  AuthenticationError,
  ConflictError,
  createClient,
  type SessionEndedEvent,
  InvalidRequestError,
  NetworkError,
  PermissionError,
  TesseraError,
} from '../src/index.js';
import {
  createApp,
  demoApp,
  makeClient,
  nextEvent,
  PASSWORD,
  patchSettings,
  signUpAndConnect,
  uniqueEmail,
} from './helpers.js';

const JWT_SECRET = 'a shared secret of at least thirty-two bytes';

describe.each(backends)('every call of the client against Tessera on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
    await patchSettings(server, demoApp(server), {
      strategies: {
        anonymous: { enabled: true },
        guest: { enabled: true },
        'auth-token': { enabled: true },
        jwt: {
          enabled: true,
          issuers: [
            {
              id: 'backend',
              audience: 'demo-chat',
              secrets: [{ alg: 'HS256', secret: JWT_SECRET }],
              autoProvision: true,
            },
          ],
        },
      },
    });
  });
  afterAll(() => server.close());

  const me = (token: string) => server.api<User>('GET', '/v1/apps/demo/chat/me', { token });

  it('signs up, connects by email, reads and changes the profile, and logs out', async () => {
    const client = makeClient(server);
    const email = uniqueEmail('ada');
    const created = await client.signup({ email, password: PASSWORD, fullName: 'Ada Lovelace' });
    expect(created).toMatchObject({ email, fullName: 'Ada Lovelace', kind: 'registered' });
    expect(created).not.toHaveProperty('password');
    expect(await client.getLoggedInUser()).toBeNull();

    const login = await client.connect(email, PASSWORD);
    expect(login).toMatchObject({
      accessToken: expect.any(String),
      reconnectToken: expect.stringMatching(/^rt_/),
      authentication: { strategy: 'local' },
      user: { id: created.id },
    });
    expect(await client.getLoggedInUser()).toMatchObject({ id: created.id, email });
    expect(await client.fetchUser()).toMatchObject({ id: created.id });
    expect(await client.getAccessToken()).toBe(login.accessToken);

    const updated = await client.updateProfile({
      fullName: 'Ada King',
      tags: ['math'],
      customData: { title: 'Countess' },
    });
    expect(updated).toMatchObject({ fullName: 'Ada King', tags: ['math'], customData: { title: 'Countess' } });
    expect(await client.getLoggedInUser()).toMatchObject({ fullName: 'Ada King' });

    await client.logout();
    expect(await client.getLoggedInUser()).toBeNull();
    expect(await client.getAccessToken()).toBeNull();
    expect((await me(login.accessToken)).body).toMatchObject({ error: { code: 'session_revoked' } });
    await expect(client.fetchUser()).rejects.toMatchObject({ code: 'missing_credentials' });
    // A second logout has nothing to do.
    await client.logout();
  });

  it('connects by username, and with authenticate() and any strategy body', async () => {
    const client = makeClient(server);
    const username = `ada${Date.now().toString(36)}`;
    await client.signup({ username, password: PASSWORD });
    expect((await client.connect(username, PASSWORD)).user.username).toBe(username);
    const again = await client.authenticate({ strategy: 'local', username, password: PASSWORD });
    expect(again.authentication.strategy).toBe('local');
    expect(await client.getLoggedInUser()).toMatchObject({ username });
  });

  it('changes the password: the other sessions end, this one continues', async () => {
    const client = makeClient(server);
    const email = await signUpAndConnect(client);
    const other = makeClient(server);
    const otherLogin = await other.connect(email, PASSWORD);
    await client.changePassword(PASSWORD, 'another horse battery staple');
    expect(await client.fetchUser()).toMatchObject({ email });
    expect((await me(otherLogin.accessToken)).body).toMatchObject({
      error: { code: 'session_revoked', details: { reason: 'password_changed' } },
    });
    await expect(client.changePassword('not the password', 'a third horse battery staple')).rejects.toBeInstanceOf(
      PermissionError,
    );
    await expect(client.changePassword('another horse battery staple', 'password')).rejects.toMatchObject({
      code: 'weak_password',
      status: 400,
    });
    await expect(makeClient(server).connect(email, 'another horse battery staple')).resolves.toMatchObject({
      user: { email },
    });
  });

  it('lists the sessions with the current one marked, revokes another, and revoking its own is a logout', async () => {
    const client = makeClient(server);
    const email = await signUpAndConnect(client);
    const phone = makeClient(server);
    const phoneLogin = await phone.connect(email, PASSWORD);
    const sessions: Session[] = await client.sessions.list();
    expect(sessions).toHaveLength(2);
    const current = sessions.find((session) => session.current === true);
    expect(current?.id).toBe((await client.reAuthenticate()).session.id);

    await client.sessions.revoke(phoneLogin.session.id);
    expect((await me(phoneLogin.accessToken)).body).toMatchObject({ error: { code: 'session_revoked' } });
    expect(await client.sessions.list()).toHaveLength(1);
    await expect(client.sessions.revoke('no-such-session')).rejects.toMatchObject({
      code: 'session_not_found',
      status: 404,
    });

    await client.sessions.revoke(current!.id);
    expect(await client.getLoggedInUser()).toBeNull();
  });

  it('logs out everywhere: every session of the user ends on the server, and this client forgets its own (issue 12)', async () => {
    const laptop = makeClient(server);
    const email = await signUpAndConnect(laptop);
    const laptopLogin = await laptop.reAuthenticate();
    const phone = makeClient(server);
    const phoneLogin = await phone.connect(email, PASSWORD);
    await phone.realtime.connect();
    const phoneEnded = nextEvent<SessionEndedEvent>((listener) => phone.on('sessionEnded', listener));

    await laptop.logoutEverywhere();
    expect(await laptop.getLoggedInUser()).toBeNull();
    expect(await laptop.getAccessToken()).toBeNull();
    for (const token of [laptopLogin.accessToken, phoneLogin.accessToken])
      expect((await me(token)).body).toMatchObject({
        error: { code: 'session_revoked', details: { reason: 'logout' } },
      });
    expect(await phoneEnded).toMatchObject({ sessionId: phoneLogin.session.id, detail: 'logout' });
    expect(await phone.getLoggedInUser()).toBeNull();
    // Nothing left to end: a second call does nothing.
    await laptop.logoutEverywhere();
  });

  it('revokes the other sessions and keeps this one (issue 12)', async () => {
    const laptop = makeClient(server);
    const email = await signUpAndConnect(laptop);
    const phone = makeClient(server);
    const phoneLogin = await phone.connect(email, PASSWORD);
    const tablet = makeClient(server);
    await tablet.connect(email, PASSWORD);
    expect(await laptop.sessions.revokeOthers()).toBe(2);
    expect((await me(phoneLogin.accessToken)).body).toMatchObject({ error: { code: 'session_revoked' } });
    expect(await laptop.sessions.list()).toHaveLength(1);
    expect((await laptop.fetchUser()).email).toBe(email);
  });

  it('connects anonymously and upgrades to a registered user that keeps its id', async () => {
    const client = makeClient(server);
    const anonymous = await client.connectAnonymously('Superman');
    expect(anonymous.user).toMatchObject({ kind: 'anonymous', fullName: 'Superman' });
    const email = uniqueEmail('clark');
    const upgraded = await client.upgradeAnonymous({ email, password: PASSWORD });
    expect(upgraded.user).toMatchObject({ id: anonymous.user.id, kind: 'registered', email });
    expect(upgraded.session.id).not.toBe(anonymous.session.id);
    expect(await client.getLoggedInUser()).toMatchObject({ kind: 'registered', email });
    expect((await me(anonymous.accessToken)).body).toMatchObject({
      error: { code: 'session_revoked', details: { reason: 'user_upgraded' } },
    });
    expect(await client.fetchUser()).toMatchObject({ id: anonymous.user.id });
    // Upgrading a registered user is refused, with the registry's code.
    await expect(client.upgradeAnonymous({ email: uniqueEmail(), password: PASSWORD })).rejects.toMatchObject({
      code: 'not_anonymous',
    });
  });

  it('connects without a display name, and as a named guest', async () => {
    expect((await makeClient(server).connectAnonymously()).user.kind).toBe('anonymous');
    const guest = await makeClient(server).connectAsGuest('Awesome Smith');
    expect(guest.user).toMatchObject({ kind: 'guest', fullName: 'Awesome Smith' });
  });

  it('connects with an auth token made by the backend with the secret key', async () => {
    const owner = await makeClient(server).signup({ email: uniqueEmail('cometchat'), password: PASSWORD });
    const made = await server.api<{ token: string }>('POST', `/v1/apps/demo/chat/users/${owner.id}/auth-tokens`, {
      key: server.secretKey,
      body: { label: 'test' },
    });
    expect(made.status).toBe(201);
    const client = makeClient(server);
    expect((await client.connectWithAuthToken(made.body.token)).user.id).toBe(owner.id);
    await expect(makeClient(server).connectWithAuthToken('at_nothing.nothing')).rejects.toBeInstanceOf(
      AuthenticationError,
    );
  });

  it('connects with a JWT from a trusted issuer, naming the issuer or not', async () => {
    const now = Math.floor(server.clock.now() / 1000);
    const token = (sub: string) =>
      handMade(
        { alg: 'HS256', typ: 'JWT' },
        { sub, aud: 'demo-chat', iat: now, exp: now + 300, name: 'Tom External' },
        JWT_SECRET,
      );
    const client = makeClient(server);
    const first = await client.connectWithJwt(token('tom'), 'backend');
    expect(first.user).toMatchObject({ kind: 'external', fullName: 'Tom External' });
    expect((await makeClient(server).connectWithJwt(token('tom'))).user.id).toBe(first.user.id);
    await expect(
      makeClient(server).connectWithJwt(
        handMade(
          { alg: 'HS256' },
          { sub: 'x', aud: 'demo-chat', exp: now + 300 },
          'another secret of thirty-two bytes or more',
        ),
      ),
    ).rejects.toMatchObject({
      code: 'invalid_token',
    });
  });

  it('resumes a session with a reconnect token in another client, once', async () => {
    const client = makeClient(server);
    await signUpAndConnect(client);
    const { reconnectToken, session } = await client.reAuthenticate();
    const other = makeClient(server);
    const resumed = await other.reconnect(reconnectToken);
    expect(resumed.session.id).toBe(session.id);
    expect(resumed.reconnectToken).not.toBe(reconnectToken);
    expect(resumed.authentication.strategy).toBe('reconnect');
  });

  it('fails with typed errors carrying the stable codes, and keeps nothing', async () => {
    const client = makeClient(server);
    const error = await client.connect(uniqueEmail('nobody'), PASSWORD).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toBeInstanceOf(TesseraError);
    expect(error).toMatchObject({
      code: 'invalid_credentials',
      status: 401,
      retryable: false,
      name: 'AuthenticationError',
    });
    expect(await client.getLoggedInUser()).toBeNull();

    const email = uniqueEmail('twice');
    await client.signup({ email, password: PASSWORD });
    await expect(client.signup({ email, password: PASSWORD })).rejects.toBeInstanceOf(ConflictError);
    await expect(client.signup({ email: uniqueEmail(), password: 'password' })).rejects.toMatchObject({
      code: 'weak_password',
    });
    const invalid = await client
      .signup({ email: 'not an email', password: PASSWORD })
      .catch((caught: unknown) => caught);
    expect(invalid).toBeInstanceOf(InvalidRequestError);
    expect((invalid as TesseraError).details).toBeDefined();

    await expect(client.fetchUser()).rejects.toMatchObject({ code: 'missing_credentials' });
    await expect(client.reAuthenticate()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(client.sessions.list()).rejects.toMatchObject({ code: 'missing_credentials' });
  });

  it('answers strategy_disabled for a strategy the app has off, and invalid_api_key for a wrong key', async () => {
    const client = makeClient(server, { app: await createApp(server) });
    await expect(client.connectAsGuest('Nobody')).rejects.toMatchObject({ code: 'strategy_disabled', status: 403 });
    const wrongKey = makeClient(server, { key: 'pk_wrong.key' });
    await expect(wrongKey.connect(uniqueEmail(), PASSWORD)).rejects.toMatchObject({ code: 'invalid_api_key' });
    const noApp = createClient({ url: server.url, app: 'no/such-app', key: server.publishableKey });
    await expect(noApp.connect(uniqueEmail(), PASSWORD)).rejects.toMatchObject({
      code: 'app_not_found',
      name: 'NotFoundError',
    });
  });

  it('turns an unreachable server into a retryable NetworkError', async () => {
    const client = createClient({
      url: 'http://127.0.0.1:9',
      app: 'demo/chat',
      key: server.publishableKey,
      storage: 'memory',
    });
    const error = await client.connect(uniqueEmail(), PASSWORD).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'network_error', status: 0, retryable: true });
  });

  it('refuses options it cannot use', () => {
    expect(() => createClient({ url: server.url, app: 'chat', key: server.publishableKey })).toThrow(TypeError);
    expect(() => createClient({ url: 'ftp://example.com', app: 'demo/chat', key: server.publishableKey })).toThrow(
      TypeError,
    );
    expect(() =>
      createClient({ url: server.url, app: 'demo/chat', key: server.publishableKey, storage: 'local' }),
    ).toThrow(/localStorage is not available/);
    expect(() =>
      createClient({ url: server.url, app: 'demo/chat', key: server.publishableKey, storage: 'session' }),
    ).toThrow(/sessionStorage is not available/);
  });
});
