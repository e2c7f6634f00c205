import type { AuthenticationResult, User } from '@tessera/protocol';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { LogCapture } from '../helpers/log-capture.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

// Issue 14, item 5: roles and custom claims in access tokens, read as the app's own server does
// (Ably's capabilities, Centrifugo's channel claims, CometChat's roles).

type ErrorAnswer = { error: { code: string; status: number; message: string; details?: unknown } };
type Claims = JWTPayload & { sid: string; roles?: string[]; tags?: string[]; customData?: Record<string, unknown> };

const ISSUER_SECRET = 'roles-issuer-shared-secret-0123456789abcdef';
const WARNING = 'access token: user claims over the size bound were left out';

describe.each(backends)('roles and claims in access tokens on $name (issue 14)', (backend) => {
  let server: TestServer;
  let idp: TestOidcProvider;
  const logs = new LogCapture();

  beforeAll(async () => {
    [server, idp] = await Promise.all([startTestServer(backend, {}, { logs }), startOidcProvider()]);
  });
  afterAll(() => Promise.all([server.close(), idp.stop()]));

  /** The token's claims, verified as a server of the app's own would: against the app's published keys. */
  const claimsOf = async (app: TestApp, accessToken: string): Promise<Claims> => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}${app.path}/.well-known/jwks.json`));
    const { payload } = await jwtVerify<Claims>(accessToken, jwks, {
      issuer: `${server.url}${app.path}`,
      audience: `${app.namespace}/${app.name}`,
      typ: 'at+jwt',
      currentDate: new Date(server.clock.now()),
    });
    return payload;
  };
  const login = async (app: TestApp, body: Record<string, unknown>) => {
    const answer = await server.api<AuthenticationResult & ErrorAnswer>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body;
  };
  const createUser = async (app: TestApp, fields: Record<string, unknown>) => {
    const email = uniqueEmail('roles');
    const created = await server.api<User & ErrorAnswer>('POST', `${app.path}/users`, {
      key: app.secretKey,
      body: { email, password: PASSWORD, ...fields },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { user: created.body, email };
  };
  const updateUser = (app: TestApp, id: string, body: Record<string, unknown>) =>
    server.api<User & ErrorAnswer>('PATCH', `${app.path}/users/${id}`, { key: app.secretKey, body });
  const setSettings = (app: TestApp, settings: Record<string, unknown>) =>
    server.api<ErrorAnswer & { settings: Record<string, unknown> }>(
      'PATCH',
      `/v1/admin/apps/${app.namespace}/${app.name}`,
      { token: server.adminToken, body: { settings } },
    );
  const userClaimsSize = ({ roles, tags, customData }: Claims) =>
    Buffer.byteLength(JSON.stringify({ roles, tags, customData }));

  it('roles set by the secret key are in the next login, and a change is in the next refresh', async () => {
    const app = await createApp(server);
    const { user, email } = await createUser(app, { roles: ['moderator', 'room:lobby:publish'] });
    expect(user.roles).toEqual(['moderator', 'room:lobby:publish']);

    const first = await login(app, { strategy: 'local', email, password: PASSWORD });
    expect(first.user.roles).toEqual(['moderator', 'room:lobby:publish']);
    const claims = await claimsOf(app, first.accessToken);
    expect(claims).toMatchObject({ sub: user.id, sid: first.session.id, roles: ['moderator', 'room:lobby:publish'] });
    // Nothing the app did not ask for.
    expect(claims.tags).toBeUndefined();
    expect(claims.customData).toBeUndefined();

    const changed = await updateUser(app, user.id, { roles: ['member'] });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.roles).toEqual(['member']);

    const refreshed = await login(app, { strategy: 'reconnect', token: first.reconnectToken });
    expect((await claimsOf(app, refreshed.accessToken)).roles).toEqual(['member']);
    await updateUser(app, user.id, { roles: [] });
    const again = await login(app, { strategy: 'access-token', accessToken: refreshed.accessToken });
    expect(await claimsOf(app, again.accessToken)).toMatchObject({ sid: first.session.id, roles: [] });
    const shown = await server.api<User>('GET', `${app.path}/users/${user.id}`, { key: app.secretKey });
    expect(shown.body.roles).toEqual([]);
  });

  it('an anonymous user keeps the roles the backend gave it through its upgrade, in the new token', async () => {
    const app = await createApp(server, { strategies: { anonymous: { enabled: true } } });
    const visitor = await login(app, { strategy: 'anonymous' });
    expect((await claimsOf(app, visitor.accessToken)).roles).toEqual([]);
    expect((await updateUser(app, visitor.user.id, { roles: ['reader'] })).status).toBe(200);
    const upgraded = await server.api<AuthenticationResult & ErrorAnswer>('POST', `${app.path}/me/upgrade`, {
      token: visitor.accessToken,
      body: { email: uniqueEmail('roles'), password: PASSWORD },
    });
    expect(upgraded.status, JSON.stringify(upgraded.body)).toBe(200);
    expect(upgraded.body.user).toMatchObject({ kind: 'registered', roles: ['reader'] });
    expect(await claimsOf(app, upgraded.body.accessToken)).toMatchObject({ sub: visitor.user.id, roles: ['reader'] });
  });

  it('only the secret key sets roles, and only role names (400 naming the field)', async () => {
    const app = await createApp(server);
    const { user, email } = await createUser(app, {});
    expect(user.roles).toEqual([]);
    const refused: [unknown, string][] = [
      [['has space'], '/roles/0'],
      [['ok', 'é'], '/roles/1'],
      [[''], '/roles/0'],
      [['x'.repeat(49)], '/roles/0'],
      [Array.from({ length: 17 }, (_, index) => `r${index}`), '/roles'],
      [['a', 'a'], '/roles'],
      ['admin', '/roles'],
    ];
    for (const [roles, path] of refused) {
      const answer = await updateUser(app, user.id, { roles });
      expect(answer.status, JSON.stringify(roles)).toBe(400);
      expect(answer.body.error.code).toBe('invalid_request');
      expect(JSON.stringify(answer.body.error.details)).toContain(path);
    }
    const signup = await server.api<ErrorAnswer>('POST', `${app.path}/users`, {
      key: app.publishableKey,
      body: { email: uniqueEmail('roles'), password: PASSWORD, roles: ['admin'] },
    });
    expect(signup.status).toBe(403);
    expect(signup.body.error.code).toBe('forbidden');
    const own = await login(app, { strategy: 'local', email, password: PASSWORD });
    const self = await server.api<ErrorAnswer>('PATCH', `${app.path}/me`, {
      token: own.accessToken,
      body: { roles: ['admin'] },
    });
    expect(self.status).toBe(400);
    const shown = await server.api<User>('GET', `${app.path}/users/${user.id}`, { key: app.secretKey });
    expect(shown.body.roles).toEqual([]);
  });

  it('carries tags and the chosen customData paths, as the app chooses', async () => {
    const app = await createApp(server, {
      accessTokenClaims: { roles: false, tags: true, customData: ['plan', 'team.id', 'absent'] },
    });
    const { email } = await createUser(app, {
      roles: ['member'],
      tags: ['beta'],
      customData: { plan: 'pro', team: { id: 't1', name: 'Blue' }, notes: 'not for tokens' },
    });
    const { accessToken } = await login(app, { strategy: 'local', email, password: PASSWORD });
    const claims = await claimsOf(app, accessToken);
    expect(claims.roles).toBeUndefined();
    expect(claims.tags).toEqual(['beta']);
    expect(claims.customData).toEqual({ plan: 'pro', team: { id: 't1' } });
  });

  it('keeps the claims within 1 KiB: a user with huge customData still logs in, warned of once', async () => {
    const app = await createApp(server, {
      accessTokenClaims: { tags: true, customData: ['bio', 'plan'] },
    });
    const { user, email } = await createUser(app, {
      roles: ['member'],
      tags: ['t'.repeat(64)],
      customData: { bio: 'b'.repeat(15_000), plan: 'pro' },
    });
    const before = logs.withMessage(WARNING).length;
    const first = await login(app, { strategy: 'local', email, password: PASSWORD });
    const claims = await claimsOf(app, first.accessToken);
    expect(claims).toMatchObject({ roles: ['member'], tags: ['t'.repeat(64)], customData: { plan: 'pro' } });
    expect(userClaimsSize(claims)).toBeLessThanOrEqual(1024);
    expect(logs.last(WARNING)).toMatchObject({
      level: 40,
      app: `${app.namespace}/${app.name}`,
      userId: user.id,
      omitted: ['customData.bio'],
    });
    expect(logs.text).not.toContain('b'.repeat(100));
    const refreshed = await login(app, { strategy: 'reconnect', token: first.reconnectToken });
    expect((await claimsOf(app, refreshed.accessToken)).customData).toEqual({ plan: 'pro' });
    expect(logs.withMessage(WARNING).length).toBe(before + 1);
  });

  it('refuses invalid claim settings with 400 naming the setting, and keeps the settings it had', async () => {
    const app = await createApp(server);
    const refused: [unknown, string][] = [
      [{ customData: ['team', 'team.id'] }, 'accessTokenClaims'],
      [{ customData: ['__proto__.polluted'] }, 'accessTokenClaims'],
      [{ customData: ['a..b'] }, 'accessTokenClaims/customData/0'],
      [{ customData: ['a b'] }, 'accessTokenClaims/customData/0'],
      [{ roles: 'yes' }, 'accessTokenClaims/roles'],
      [{ everything: true }, 'accessTokenClaims'],
    ];
    for (const [accessTokenClaims, named] of refused) {
      const answer = await setSettings(app, { accessTokenClaims });
      expect(answer.status, JSON.stringify(accessTokenClaims)).toBe(400);
      expect(answer.body.error.code).toBe('invalid_request');
      expect(JSON.stringify(answer.body)).toMatch(new RegExp(named.replaceAll('/', '[/.]')));
    }
    const accepted = await setSettings(app, { accessTokenClaims: { customData: ['team.id', 'plan'] } });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.settings.accessTokenClaims).toEqual({
      roles: true,
      tags: false,
      customData: ['team.id', 'plan'],
    });
  });

  it('maps roles from a trusted issuer’s claim at each login; a token without the claim means no roles', async () => {
    const app = await createApp(server, {
      strategies: {
        jwt: {
          enabled: true,
          issuers: [
            {
              id: 'sso',
              audience: 'chat',
              secrets: [{ alg: 'HS256', secret: ISSUER_SECRET }],
              autoProvision: true,
              claims: { roles: 'realm_access.roles' },
            },
          ],
        },
      },
    });
    const now = () => Math.floor(server.clock.now() / 1000);
    const token = (claims: Record<string, unknown>) =>
      new SignJWT({ ...claims, iat: now(), exp: now() + 300 })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('employee-7')
        .setAudience('chat')
        .sign(Buffer.from(ISSUER_SECRET));
    const jwtLogin = async (claims: Record<string, unknown>) => {
      const answer = await login(app, { strategy: 'jwt', issuer: 'sso', token: await token(claims) });
      return { user: answer.user, claims: await claimsOf(app, answer.accessToken) };
    };

    const first = await jwtLogin({ realm_access: { roles: ['editor', 'Not A Role', 'offline_access'] } });
    expect(first.user.roles).toEqual(['editor', 'offline_access']);
    expect(first.claims.roles).toEqual(['editor', 'offline_access']);
    const second = await jwtLogin({ realm_access: { roles: ['viewer'] } });
    expect(second.user.id).toBe(first.user.id);
    expect(second.claims.roles).toEqual(['viewer']);
    // A role taken away at the issuer is gone, even when the issuer leaves the claim out.
    expect((await jwtLogin({})).claims.roles).toEqual([]);
  });

  it('maps roles from an OpenID provider’s claim at each login', async () => {
    const app = await createApp(server, {
      strategies: {
        oidc: {
          enabled: true,
          providers: [
            { issuer: idp.issuer, clientId: idp.client.clientId, autoProvision: true, claims: { roles: 'roles' } },
          ],
        },
      },
    });
    const sub = `oidc-roles-${process.pid}-${backend.name}`;
    const oidcLogin = async (roles: string[] | undefined) => {
      const account = { sub, email: `${sub}@example.com`, email_verified: true, ...(roles && { roles }) };
      const { idToken, nonce } = await idp.obtainIdToken({ account });
      // The provider stamps tokens with the real time; Tessera's clock moves only when told to.
      server.clock.advance(Math.max(0, Date.now() - server.clock.now()));
      const answer = await login(app, { strategy: 'oidc', idToken, nonce });
      return { user: answer.user, claims: await claimsOf(app, answer.accessToken) };
    };
    const first = await oidcLogin(['admin', 'staff']);
    expect(first.user).toMatchObject({ kind: 'external', roles: ['admin', 'staff'] });
    expect(first.claims.roles).toEqual(['admin', 'staff']);
    const second = await oidcLogin(['staff']);
    expect(second.user.id).toBe(first.user.id);
    expect(second.claims.roles).toEqual(['staff']);
    expect((await oidcLogin(undefined)).claims.roles).toEqual([]);
  });
});
