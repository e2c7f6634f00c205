import { randomBytes } from 'node:crypto';
import type { AuthenticationResult, CreatedAuthToken, Page, Session, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { json, LoopbackHttpServer } from '../helpers/http-server.js';
import { handMade } from '../helpers/jwt.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { isUniqueViolation } from '../../src/store/errors.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

// Issue 14, items 2 and 3: the app's own user ids (CometChat's UID, ConnectyCube's external user
// id) and users without a password, as those platforms' backends use them.

const ISSUER_SECRET = randomBytes(33).toString('base64url');

describe.each(backends)('app user ids and users without a password on $name (issue 14)', (backend) => {
  let server: TestServer;
  let app: TestApp;
  // ConnectyCube's custom identity provider as a webhook: it vouches for one token, of its user 9001.
  const identityProvider = new LoopbackHttpServer();

  beforeAll(async () => {
    await identityProvider.start((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const { token } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token?: unknown };
        if (token === 'cidp-token-9001') json(200, { id: 9001, full_name: 'Cube User' })(response);
        else json(401, { error: 'unknown token' })(response);
      });
    });
    server = await startTestServer(backend);
    app = await createApp(server, {
      strategies: {
        'auth-token': { enabled: true },
        custom: {
          enabled: true,
          url: `${identityProvider.url}/verify`,
          matchExistingUserBy: 'externalId',
          autoProvision: false,
        },
        jwt: {
          enabled: true,
          issuers: [
            // ConnectyCube's custom identity provider: its user id is the id the app's backend gave the user.
            {
              id: 'cidp',
              audience: 'connectycube',
              secrets: [{ alg: 'HS256', secret: ISSUER_SECRET }],
              matchExistingUserBy: 'externalId',
              autoProvision: false,
            },
            // An issuer whose users are made on first login, their externalId from the `uid` claim.
            {
              id: 'mapped',
              audience: 'mapped',
              secrets: [{ alg: 'HS256', secret: ISSUER_SECRET }],
              claims: { externalId: 'uid' },
              autoProvision: true,
            },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await server.close();
    await identityProvider.close();
  });

  const secret = (method: string, path: string, body?: unknown) =>
    server.api(method, `${app.path}${path}`, { key: app.secretKey, ...(body === undefined ? {} : { body }) });
  const createUser = async (body: Record<string, unknown>): Promise<User> => {
    const response = await server.api<User>('POST', `${app.path}/users`, { key: app.secretKey, body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };
  const logIn = (body: Record<string, unknown>) =>
    server.api<AuthenticationResult>('POST', `${app.path}/authentication`, { key: app.publishableKey, body });
  const issuerToken = (audience: string, claims: Record<string, unknown>) => {
    const now = Math.floor(server.clock.now() / 1000);
    return handMade(
      { alg: 'HS256', typ: 'JWT' },
      { aud: audience, iat: now, exp: now + 300, ...claims },
      ISSUER_SECRET,
    );
  };

  it('lets a CometChat-style backend make users with its own UIDs and no password, and manage them by UID', async () => {
    const user = await createUser({ externalId: 'cometchat-uid-1', fullName: 'Andrew Joseph', password: null });
    expect(user).toMatchObject({ externalId: 'cometchat-uid-1', username: null, email: null, kind: 'registered' });
    const byUid = '/users/external:cometchat-uid-1';

    for (const path of [byUid, '/users/external%3Acometchat-uid-1', `/users/${user.id}`]) {
      const fetched = await secret('GET', path);
      expect(fetched.status, path).toBe(200);
      expect(fetched.body).toMatchObject({ id: user.id, externalId: 'cometchat-uid-1' });
    }
    expect((await secret('PATCH', byUid, { fullName: 'Andrew J.' })).body).toMatchObject({
      id: user.id,
      fullName: 'Andrew J.',
    });

    // The backend makes an auth token for the UID; the client logs in with it.
    const made = await secret('POST', `${byUid}/auth-tokens`, { label: 'phone' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const { token, id: tokenId, userId } = made.body as unknown as CreatedAuthToken;
    expect(userId).toBe(user.id);
    expect((await secret('GET', `${byUid}/auth-tokens`)).body).toMatchObject({ items: [{ id: tokenId }] });
    const login = await logIn({ strategy: 'auth-token', token });
    expect(login.status, JSON.stringify(login.body)).toBe(201);
    expect(login.body.user).toMatchObject({ id: user.id, externalId: 'cometchat-uid-1' });

    const sessions = await secret('GET', `${byUid}/sessions`);
    expect((sessions.body as unknown as { items: Session[] }).items.map((session) => session.id)).toEqual([
      login.body.session.id,
    ]);
    expect((await secret('DELETE', `${byUid}/sessions/${login.body.session.id}`)).status).toBe(204);
    expect((await secret('DELETE', `${byUid}/sessions`)).body).toEqual({ revoked: 0 });
    expect((await secret('DELETE', `${byUid}/auth-tokens/${tokenId}`)).status).toBe(204);

    expect((await secret('PATCH', byUid, { disabled: true })).body).toMatchObject({ id: user.id, disabled: true });
    expect((await secret('DELETE', byUid)).status).toBe(204);
    expect((await secret('GET', `/users/${user.id}`)).status).toBe(404);
    expect((await secret('GET', byUid)).body).toMatchObject({ error: { code: 'user_not_found' } });
  });

  it('answers an unknown externalId 404 and lets only the secret key address users by it', async () => {
    const user = await createUser({ externalId: 'only-secret', password: null });
    expect((await secret('GET', '/users/external:no-such-uid')).status).toBe(404);
    expect((await secret('GET', '/users/external:Only-Secret')).status, 'case-sensitive').toBe(404);
    const withPublishable = await server.api('GET', `${app.path}/users/external:only-secret`, {
      key: app.publishableKey,
    });
    expect(withPublishable.status).toBe(403);
    expect((await secret('GET', `/users/external:${user.externalId}`)).status).toBe(200);
  });

  it('refuses a duplicate externalId with 409 user_exists naming the field, and loses no data', async () => {
    const first = await createUser({ externalId: 'uid-dup', email: uniqueEmail(), password: PASSWORD });
    const second = await createUser({ externalId: 'uid-other', fullName: 'Second', password: null });
    const before = await snapshotDatabase(server);

    const duplicate = await secret('POST', '/users', { externalId: 'uid-dup', email: uniqueEmail(), password: null });
    const moved = await secret('PATCH', `/users/${second.id}`, { externalId: 'uid-dup', fullName: 'Changed' });
    for (const response of [duplicate, moved]) {
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({
        error: { code: 'user_exists', details: [{ path: '/externalId' }] },
      });
    }
    expect(await snapshotDatabase(server)).toBe(before);
    expect((await secret('GET', '/users/external:uid-dup')).body).toMatchObject({ id: first.id });
    expect((await secret('GET', '/users/external:uid-other')).body).toMatchObject({
      id: second.id,
      fullName: 'Second',
    });

    // Compared exactly: another case is another id. Removed, an externalId is free for another user.
    expect((await createUser({ externalId: 'UID-DUP', password: null })).externalId).toBe('UID-DUP');
    expect((await secret('PATCH', `/users/${first.id}`, { externalId: null })).body).toMatchObject({
      externalId: null,
    });
    expect((await secret('PATCH', `/users/${second.id}`, { externalId: 'uid-dup' })).body).toMatchObject({
      externalId: 'uid-dup',
    });
  });

  it('has the database keep externalIds unique per app, even past the check, and any number of users without one', async () => {
    const { db } = server.tessera.services.store;
    const holder = await createUser({ externalId: 'uid-indexed', password: null });
    const racer = await createUser({ email: uniqueEmail(), password: null });
    const write = (externalId: string | null) =>
      db.updateTable('users').set({ external_id: externalId }).where('id', '=', racer.id).execute();
    const refused = await write('uid-indexed').catch((error: unknown) => error);
    expect(isUniqueViolation(refused), String(refused)).toBe(true);
    await write('UID-INDEXED');
    await write(null);
    await createUser({ email: uniqueEmail(), password: null });
    const nulls = await db.selectFrom('users').select('id').where('external_id', 'is', null).execute();
    expect(nulls.length).toBeGreaterThan(1);
    // Another app may use the same externalId for a user of its own.
    const other = await createApp(server);
    const elsewhere = await server.api<User>('POST', `${other.path}/users`, {
      key: other.secretKey,
      body: { externalId: 'uid-indexed', password: null },
    });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.id).not.toBe(holder.id);
  });

  it('refuses an externalId of another form with 400 naming the field, and from the publishable key', async () => {
    for (const externalId of ['', 'two words', 'a/b', 'é', 'x'.repeat(101), 42]) {
      const response = await secret('POST', '/users', { externalId, password: null });
      expect(response.status, JSON.stringify(externalId)).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(JSON.stringify(response.body), JSON.stringify(externalId)).toContain('/externalId');
    }
    expect((await createUser({ externalId: `a.b_c-d@e:${'x'.repeat(90)}`, password: null })).externalId).toHaveLength(
      100,
    );
    const publicSignup = await server.api('POST', `${app.path}/users`, {
      key: app.publishableKey,
      body: { email: uniqueEmail(), password: PASSWORD, externalId: 'chosen-by-the-public' },
    });
    expect(publicSignup.status).toBe(403);
    expect(publicSignup.body).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('answers a password login for a user without a password exactly as a wrong password, and counts it', async () => {
    const passwordless = uniqueEmail('passwordless');
    const withPassword = uniqueEmail('with-password');
    await createUser({ email: passwordless, password: null });
    await createUser({ email: withPassword, password: PASSWORD });
    const attempt = (email: string) => logIn({ strategy: 'local', email, password: 'a guess of fifteen chars' });
    const answers = { passwordless: [] as unknown[], withPassword: [] as unknown[] };
    // The throttle's default: 5 failures, then the account waits. The two accounts must not differ.
    for (let round = 0; round < 6; round += 1) {
      for (const [name, email] of [
        ['passwordless', passwordless],
        ['withPassword', withPassword],
      ] as const) {
        const response = await attempt(email);
        answers[name].push({ status: response.status, body: response.body });
      }
    }
    expect(answers.passwordless).toEqual(answers.withPassword);
    expect(answers.passwordless[0]).toMatchObject({ status: 401, body: { error: { code: 'invalid_credentials' } } });
    expect(answers.passwordless[5]).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
  });

  it('keeps requiring a password from the public, and lets only the secret key make a user without one', async () => {
    const cases: [string, Record<string, unknown>, number, string][] = [
      [app.publishableKey, { email: uniqueEmail(), password: null }, 403, 'forbidden'],
      [app.publishableKey, { email: uniqueEmail() }, 400, 'invalid_request'],
      [app.secretKey, { email: uniqueEmail() }, 400, 'invalid_request'],
      [app.secretKey, { fullName: 'No handle', password: null }, 400, 'invalid_request'],
    ];
    for (const [key, body, status, code] of cases) {
      const response = await server.api('POST', `${app.path}/users`, { key, body });
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body).toMatchObject({ error: { code } });
    }
  });

  it('lets the backend set a password later, checked by the policy, and take it away again', async () => {
    const email = uniqueEmail('later');
    await createUser({ externalId: 'uid-later', email, password: null });
    const byUid = '/users/external:uid-later';
    expect((await secret('PATCH', byUid, { password: 'short' })).body).toMatchObject({
      error: { code: 'weak_password' },
    });
    expect((await secret('PATCH', byUid, { password: PASSWORD })).status).toBe(200);
    const login = await logIn({ strategy: 'local', email, password: PASSWORD });
    expect(login.status, JSON.stringify(login.body)).toBe(201);
    expect(login.body.user).toMatchObject({ externalId: 'uid-later' });

    // Taking the password away ends the sessions it made, and the password no longer logs in.
    expect((await secret('PATCH', byUid, { password: null })).status).toBe(200);
    expect((await secret('GET', `${byUid}/sessions`)).body).toEqual({ items: [] });
    expect((await logIn({ strategy: 'local', email, password: PASSWORD })).body).toMatchObject({
      error: { code: 'invalid_credentials' },
    });
  });

  it("links a ConnectyCube-style identity provider's login to the backend's user by externalId", async () => {
    const user = await createUser({ externalId: '424242', fullName: 'Marvin Simon', password: null });
    const first = await logIn({
      strategy: 'jwt',
      issuer: 'cidp',
      token: issuerToken('connectycube', { sub: '424242' }),
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.user).toMatchObject({ id: user.id, externalId: '424242', kind: 'registered' });
    // Linked now: the next login finds the identity, even once the externalId has changed.
    await secret('PATCH', `/users/${user.id}`, { externalId: 'renamed' });
    const again = await logIn({
      strategy: 'jwt',
      issuer: 'cidp',
      token: issuerToken('connectycube', { sub: '424242' }),
    });
    expect(again.body.user).toMatchObject({ id: user.id, externalId: 'renamed' });

    const stranger = await logIn({ strategy: 'jwt', issuer: 'cidp', token: issuerToken('connectycube', { sub: '7' }) });
    expect(stranger.status).toBe(403);
    expect(stranger.body).toMatchObject({ error: { code: 'user_not_provisioned' } });
  });

  it("gives a user made from an issuer's token the externalId its mapped claim holds, unless another user has it", async () => {
    const first = await logIn({
      strategy: 'jwt',
      issuer: 'mapped',
      token: issuerToken('mapped', { sub: 's-1', uid: 77 }),
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.user).toMatchObject({ kind: 'external', externalId: '77' });
    expect((await secret('GET', '/users/external:77')).body).toMatchObject({ id: first.body.user.id });

    const taken = await logIn({
      strategy: 'jwt',
      issuer: 'mapped',
      token: issuerToken('mapped', { sub: 's-2', uid: '77' }),
    });
    expect(taken.status).toBe(201);
    expect(taken.body.user).toMatchObject({ kind: 'external', externalId: null });
    expect(taken.body.user.id).not.toBe(first.body.user.id);

    const page = await secret('GET', '/users?limit=200');
    expect((page.body as unknown as Page<User>).items.filter((user) => user.externalId === '77')).toHaveLength(1);
  });

  it("links the app's identity-provider webhook's login to the backend's user by externalId", async () => {
    const user = await createUser({ externalId: '9001', fullName: 'Cube User', password: null });
    const login = await logIn({ strategy: 'custom', token: 'cidp-token-9001' });
    expect(login.status, JSON.stringify(login.body)).toBe(201);
    expect(login.body.user).toMatchObject({ id: user.id, externalId: '9001', kind: 'registered' });
  });
});
