import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, signUpAndLogInTo, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

type Failure = {
  error: { code: string; status: number; message: string; details?: { reason?: string; minLength?: number } };
};

describe.each(backends)('password policy per app on $name (issue 12)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const signup = (app: TestApp, body: Record<string, unknown>) =>
    server.api<User & Failure>('POST', `${app.path}/users`, { key: app.publishableKey, body });

  it('asks 15 characters by default; an app may ask 8 to 64, and nothing else', async () => {
    const app = await createApp(server);
    const short = await signup(app, { email: uniqueEmail(), password: 'fourteen chars' });
    expect(short.status).toBe(400);
    expect(short.body.error).toMatchObject({ code: 'weak_password', details: { reason: 'too_short', minLength: 15 } });
    expect((await signup(app, { email: uniqueEmail(), password: 'fifteen chars!!' })).status).toBe(201);

    const lenient = await createApp(server, { passwordPolicy: { minLength: 8 } });
    expect((await signup(lenient, { email: uniqueEmail(), password: 'eight ch' })).status).toBe(201);
    for (const minLength of [7, 65, 15.5]) {
      const refused = await server.api<Failure>('PATCH', `/v1/admin/apps/${app.namespace}/${app.name}`, {
        token: server.adminToken,
        body: { settings: { passwordPolicy: { minLength } } },
      });
      expect(refused.status, String(minLength)).toBe(400);
    }
  });

  it('keeps stored passwords working when the minimum rises; it applies when a password is set', async () => {
    const app = await createApp(server, { passwordPolicy: { minLength: 8 } });
    const email = uniqueEmail();
    expect((await signup(app, { email, password: 'tiny pass' })).status).toBe(201);
    await server.api('PATCH', `/v1/admin/apps/${app.namespace}/${app.name}`, {
      token: server.adminToken,
      body: { settings: { passwordPolicy: { minLength: 20 } } },
    });
    const login = await server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body: { strategy: 'local', email, password: 'tiny pass' },
    });
    expect(login.status).toBe(201);
    const change = await server.api<Failure>('PATCH', `${app.path}/me`, {
      token: login.body.accessToken,
      body: { oldPassword: 'tiny pass', password: 'still too short' },
    });
    expect(change.body.error).toMatchObject({ code: 'weak_password', details: { reason: 'too_short', minLength: 20 } });
  });

  it("refuses the user's own logins and the app's name at signup, password change, backend reset and anonymous upgrade", async () => {
    const app = await createApp(server, { strategies: { anonymous: { enabled: true } } });
    const email = `grace.hopper.${Date.now()}@example.com`;
    const local = email.slice(0, email.indexOf('@'));
    const context = (body: Failure) => body.error.details?.reason;
    // Signup: email, local part, username, app name, namespace; as is or with digits and symbols around.
    const signups: Record<string, unknown>[] = [
      { email, password: email.toUpperCase() },
      { email, password: `${local}2024!` },
      { email, username: 'commodore-grace', password: '!!Commodore-Grace!!' },
      { email, password: `${app.namespace}123456789` },
    ];
    for (const body of signups) expect(context((await signup(app, body)).body), JSON.stringify(body)).toBe('context');

    const { user, login } = await signUpAndLogInTo(server, app, { username: 'admiral-hopper-1906' });
    const change = await server.api<Failure>('PATCH', `${app.path}/me`, {
      token: login.accessToken,
      body: { oldPassword: PASSWORD, password: 'Admiral-Hopper-1906' },
    });
    expect(context(change.body)).toBe('context');
    const reset = await server.api<Failure>('PATCH', `${app.path}/users/${user.id}`, {
      key: app.secretKey,
      body: { password: `${user.email!}!!` },
    });
    expect(context(reset.body)).toBe('context');
    // A change that also sets a new username may not make the password that username either.
    const both = await server.api<Failure>('PATCH', `${app.path}/users/${user.id}`, {
      key: app.secretKey,
      body: { username: 'rear-admiral-grace', password: 'Rear-Admiral-Grace-1' },
    });
    expect(context(both.body)).toBe('context');

    const anonymous = await server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body: { strategy: 'anonymous' },
    });
    const upgradeEmail = `ada.lovelace.${Date.now()}@example.com`;
    const upgrade = await server.api<Failure>('POST', `${app.path}/me/upgrade`, {
      token: anonymous.body.accessToken,
      body: { email: upgradeEmail, password: `${upgradeEmail.slice(0, upgradeEmail.indexOf('@'))}1815` },
    });
    expect(context(upgrade.body)).toBe('context');
    // Nothing was written: the old password still logs in, the anonymous user is still one.
    expect(
      (
        await server.api('POST', `${app.path}/authentication`, {
          key: app.publishableKey,
          body: { strategy: 'local', email: user.email, password: PASSWORD },
        })
      ).status,
    ).toBe(201);
    expect((await server.api<User>('GET', `${app.path}/me`, { token: anonymous.body.accessToken })).body.kind).toBe(
      'anonymous',
    );
  });
});
