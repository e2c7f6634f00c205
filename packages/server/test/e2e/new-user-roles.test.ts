import type { AuthenticationResult, User } from '@tessera/protocol';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

// Issue 15, item 5: an anonymous visitor may read but not post, decided by a role claim: the
// app's `newUserRoles` give each new user roles by its kind.

type ErrorAnswer = { error: { code: string; status: number; message: string; details?: unknown } };

const ISSUER_SECRET = 'new-user-roles-issuer-secret-0123456789ab';
const NEW_USER_ROLES = {
  registered: ['reader', 'poster'],
  anonymous: ['reader'],
  guest: ['reader', 'guest'],
  external: ['staff'],
};

describe.each(backends)('roles new users get by kind on $name (issue 15)', (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const appWith = (settings: Record<string, unknown> = {}) =>
    createApp(server, {
      newUserRoles: NEW_USER_ROLES,
      strategies: { anonymous: { enabled: true }, guest: { enabled: true } },
      ...settings,
    });
  const login = async (app: TestApp, body: Record<string, unknown>): Promise<AuthenticationResult> => {
    const answer = await server.api<AuthenticationResult & ErrorAnswer>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body;
  };
  /** The roles the user's record and its access token say: always the same. */
  const rolesOf = (result: AuthenticationResult): string[] => {
    const claimed = decodeJwt(result.accessToken).roles;
    expect(claimed).toEqual(result.user.roles);
    return result.user.roles;
  };
  const createUser = (app: TestApp, key: string, body: Record<string, unknown>) =>
    server.api<User & ErrorAnswer>('POST', `${app.path}/users`, { key, body });
  const setSettings = (app: TestApp, settings: Record<string, unknown>) =>
    server.api<ErrorAnswer & { settings: Record<string, unknown> }>(
      'PATCH',
      `/v1/admin/apps/${app.namespace}/${app.name}`,
      { token: server.adminToken, body: { settings } },
    );

  it('gives no roles by default', async () => {
    const app = await createApp(server, { strategies: { anonymous: { enabled: true } } });
    const settings = await server.api<{ settings: Record<string, unknown> }>(
      'GET',
      `/v1/admin/apps/${app.namespace}/${app.name}`,
      { token: server.adminToken },
    );
    expect(settings.body.settings.newUserRoles).toEqual({});
    expect(rolesOf(await login(app, { strategy: 'anonymous' }))).toEqual([]);
    const signup = await createUser(app, app.publishableKey, { email: uniqueEmail('nur'), password: PASSWORD });
    expect(signup.body.roles).toEqual([]);
  });

  it('signup, anonymous and guest logins start with their kind’s roles, in the user and its token', async () => {
    const app = await appWith();
    const email = uniqueEmail('nur');
    const signup = await createUser(app, app.publishableKey, { email, password: PASSWORD });
    expect(signup.status, JSON.stringify(signup.body)).toBe(201);
    expect(signup.body).toMatchObject({ kind: 'registered', roles: ['reader', 'poster'] });
    expect(rolesOf(await login(app, { strategy: 'local', email, password: PASSWORD }))).toEqual(['reader', 'poster']);
    expect(rolesOf(await login(app, { strategy: 'anonymous' }))).toEqual(['reader']);
    expect(rolesOf(await login(app, { strategy: 'guest', fullName: 'Grace' }))).toEqual(['reader', 'guest']);
  });

  it('the secret key’s create gets the kind’s roles when it gives none; roles it gives win, [] included', async () => {
    const app = await appWith();
    const without = await createUser(app, app.secretKey, { email: uniqueEmail('nur'), password: PASSWORD });
    expect(without.body.roles).toEqual(['reader', 'poster']);
    const given = await createUser(app, app.secretKey, {
      email: uniqueEmail('nur'),
      password: PASSWORD,
      roles: ['moderator'],
    });
    expect(given.body.roles).toEqual(['moderator']);
    const none = await createUser(app, app.secretKey, { email: uniqueEmail('nur'), password: PASSWORD, roles: [] });
    expect(none.body.roles).toEqual([]);
  });

  it('a user provisioned by a trusted issuer gets the external roles, unless the issuer maps a roles claim', async () => {
    const issuer = (id: string, roles: string | null) => ({
      id,
      audience: 'chat',
      secrets: [{ alg: 'HS256', secret: ISSUER_SECRET }],
      autoProvision: true,
      claims: { roles },
    });
    const app = await appWith({
      strategies: { jwt: { enabled: true, issuers: [issuer('plain', null), issuer('mapped', 'groups')] } },
    });
    const token = (subject: string, claims: Record<string, unknown> = {}) => {
      const now = Math.floor(server.clock.now() / 1000);
      return new SignJWT({ ...claims, iat: now, exp: now + 300 })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(subject)
        .setAudience('chat')
        .sign(Buffer.from(ISSUER_SECRET));
    };
    const plain = await login(app, { strategy: 'jwt', issuer: 'plain', token: await token('e-1') });
    expect(plain.user.kind).toBe('external');
    expect(rolesOf(plain)).toEqual(['staff']);
    // A later login keeps them: the issuer says nothing about roles.
    expect(rolesOf(await login(app, { strategy: 'jwt', issuer: 'plain', token: await token('e-1') }))).toEqual([
      'staff',
    ]);
    const mapped = await login(app, {
      strategy: 'jwt',
      issuer: 'mapped',
      token: await token('e-2', { groups: ['editor'] }),
    });
    expect(rolesOf(mapped)).toEqual(['editor']);
  });

  it('an upgrade swaps the anonymous roles for the registered ones and keeps those the backend gave', async () => {
    const app = await appWith();
    const visitor = await login(app, { strategy: 'anonymous' });
    expect(rolesOf(visitor)).toEqual(['reader']);
    const given = await server.api<User>('PATCH', `${app.path}/users/${visitor.user.id}`, {
      key: app.secretKey,
      body: { roles: ['reader', 'vip'] },
    });
    expect(given.body.roles).toEqual(['reader', 'vip']);
    const upgraded = await server.api<AuthenticationResult & ErrorAnswer>('POST', `${app.path}/me/upgrade`, {
      token: visitor.accessToken,
      body: { email: uniqueEmail('nur'), password: PASSWORD },
    });
    expect(upgraded.status, JSON.stringify(upgraded.body)).toBe(200);
    expect(upgraded.body.user.kind).toBe('registered');
    expect(rolesOf(upgraded.body)).toEqual(['vip', 'reader', 'poster']);
    const shown = await server.api<User>('GET', `${app.path}/users/${visitor.user.id}`, { key: app.secretKey });
    expect(shown.body.roles).toEqual(['vip', 'reader', 'poster']);
  });

  it('a change of the setting applies to users created after it, not to those before', async () => {
    const app = await appWith();
    const before = await login(app, { strategy: 'anonymous' });
    const changed = await setSettings(app, { newUserRoles: { anonymous: ['lurker'] } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    // Objects merge key by key: the other kinds keep their roles.
    expect(changed.body.settings.newUserRoles).toEqual({ ...NEW_USER_ROLES, anonymous: ['lurker'] });
    expect(rolesOf(await login(app, { strategy: 'anonymous' }))).toEqual(['lurker']);
    expect(rolesOf(await login(app, { strategy: 'reconnect', token: before.reconnectToken }))).toEqual(['reader']);
  });

  it('refuses invalid roles settings with 400 invalid_request naming the setting, and keeps the settings it had', async () => {
    const app = await appWith();
    const refused: [unknown, string][] = [
      [{ anonymous: ['has space'] }, 'newUserRoles/anonymous/0'],
      [{ registered: ['ok', 'é'] }, 'newUserRoles/registered/1'],
      [{ guest: 'reader' }, 'newUserRoles/guest'],
      [{ external: ['a', 'a'] }, 'newUserRoles/external'],
      [{ registered: Array.from({ length: 17 }, (_, index) => `r${index}`) }, 'newUserRoles/registered'],
      [{ robot: ['reader'] }, 'newUserRoles'],
      [['reader'], 'newUserRoles'],
    ];
    for (const [newUserRoles, named] of refused) {
      const answer = await setSettings(app, { newUserRoles });
      expect(answer.status, JSON.stringify(newUserRoles)).toBe(400);
      expect(answer.body.error.code).toBe('invalid_request');
      expect(JSON.stringify(answer.body)).toMatch(new RegExp(named.replaceAll('/', '[/.]')));
    }
    const created = await server.api<ErrorAnswer>('POST', `/v1/admin/namespaces/${app.namespace}/apps`, {
      token: server.adminToken,
      body: { name: 'other', settings: { newUserRoles: { anonymous: [''] } } },
    });
    expect(created.status).toBe(400);
    expect(created.body.error.code).toBe('invalid_request');
    const shown = await server.api<{ settings: Record<string, unknown> }>(
      'GET',
      `/v1/admin/apps/${app.namespace}/${app.name}`,
      { token: server.adminToken },
    );
    expect(shown.body.settings.newUserRoles).toEqual(NEW_USER_ROLES);
  });
});
