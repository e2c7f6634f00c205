import type { User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

type Answer = { error?: { code: string; status: number; message: string; details?: unknown } };

describe.each(backends)('what a disabled user and a locked-out user are told on $name (issue 12)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const login = (app: TestApp, body: Record<string, unknown>) =>
    server.api<Answer>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body: { strategy: 'local', ...body },
    });

  async function disabledUser(app: TestApp): Promise<{ email: string; user: User }> {
    const email = uniqueEmail('disabled');
    const user = (
      await server.api<User>('POST', `${app.path}/users`, { key: app.secretKey, body: { email, password: PASSWORD } })
    ).body;
    expect(
      (await server.api('PATCH', `${app.path}/users/${user.id}`, { key: app.secretKey, body: { disabled: true } }))
        .status,
    ).toBe(200);
    return { email, user };
  }

  /** What a client can compare: status, body and the headers that are not per request. */
  const observable = (response: { status: number; body: Answer; headers: Headers }) => ({
    status: response.status,
    body: response.body,
    headers: [...response.headers].filter(([name]) => !['date', 'x-request-id', 'content-length'].includes(name)),
  });

  it("answers a disabled user's right password exactly as a wrong one", async () => {
    const app = await createApp(server);
    const { email } = await disabledUser(app);
    const right = await login(app, { email, password: PASSWORD });
    const wrong = await login(app, { email, password: 'not the password at all' });
    expect(observable(right)).toEqual(observable(wrong));
    expect(right.body.error?.code).toBe('invalid_credentials');
  });

  it("counts a disabled user's right password as a failure, so the throttle does not tell them apart either", async () => {
    const app = await createApp(server);
    const { email } = await disabledUser(app);
    for (let attempt = 1; attempt <= 5; attempt += 1)
      expect((await login(app, { email, password: PASSWORD })).status).toBe(401);
    const locked = await login(app, { email, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.error?.code).toBe('rate_limited');
  });

  it('tells a disabled user so when the app opts in with revealDisabledUsers, and only with the right password', async () => {
    const app = await createApp(server, { revealDisabledUsers: true });
    const { email } = await disabledUser(app);
    const right = await login(app, { email, password: PASSWORD });
    expect(right.status).toBe(401);
    expect(right.body.error?.code).toBe('user_disabled');
    expect((await login(app, { email, password: 'not the password at all' })).body.error?.code).toBe(
      'invalid_credentials',
    );
  });

  it('lifts the login throttle of an account whose password the backend resets, for its email and its username', async () => {
    const app = await createApp(server);
    const email = uniqueEmail('locked');
    const user = (
      await server.api<User>('POST', `${app.path}/users`, {
        key: app.secretKey,
        body: { email, username: `locked-${Date.now()}`, password: PASSWORD },
      })
    ).body;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await login(app, { email, password: `wrong guess ${attempt}` });
      await login(app, { username: user.username, password: `wrong guess ${attempt}` });
    }
    expect((await login(app, { email, password: PASSWORD })).status).toBe(429);
    expect((await login(app, { username: user.username, password: PASSWORD })).status).toBe(429);

    const newPassword = 'a brand new passphrase for you';
    expect(
      (
        await server.api('PATCH', `${app.path}/users/${user.id}`, {
          key: app.secretKey,
          body: { password: newPassword },
        })
      ).status,
    ).toBe(200);
    expect((await login(app, { email, password: newPassword })).status).toBe(201);
    expect((await login(app, { username: user.username, password: newPassword })).status).toBe(201);
  });

  it('keeps the throttle when the backend changes something other than the password', async () => {
    const app = await createApp(server);
    const email = uniqueEmail('still-locked');
    const user = (
      await server.api<User>('POST', `${app.path}/users`, { key: app.secretKey, body: { email, password: PASSWORD } })
    ).body;
    for (let attempt = 1; attempt <= 5; attempt += 1) await login(app, { email, password: `wrong guess ${attempt}` });
    expect(
      (
        await server.api('PATCH', `${app.path}/users/${user.id}`, {
          key: app.secretKey,
          body: { fullName: 'Still Locked' },
        })
      ).status,
    ).toBe(200);
    expect((await login(app, { email, password: PASSWORD })).status).toBe(429);
  });
});
