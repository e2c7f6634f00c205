import type { Page, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, logIn, signUp, signUpAndLogIn, uniqueEmail } from '../helpers/users.js';

describe.each(backends)('users on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const users = '/v1/apps/demo/chat/users';

  it('keeps usernames and emails unique per app, case-insensitively', async () => {
    const email = uniqueEmail('Case');
    await signUp(server, { email, username: 'Zoë_Case' });
    for (const fields of [{ email: email.toUpperCase() }, { email: uniqueEmail(), username: 'zoË_case' }]) {
      const duplicate = await server.api('POST', users, {
        key: server.publishableKey,
        body: { password: PASSWORD, ...fields },
      });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body).toMatchObject({ error: { code: 'user_exists' } });
    }
  });

  it('stores every profile field and returns no secret', async () => {
    const profile = {
      email: uniqueEmail(),
      username: 'marvin18',
      fullName: 'Marvin Simon',
      phone: '+47 802 323 143',
      website: 'https://dozensofdreams.com',
      avatarUrl: 'https://cdn.example.com/a.png',
      tags: ['iphone', 'apple'],
      customData: { middle_name: 'Bartoleo', nested: { ok: true } },
    };
    const created = await signUp(server, profile);
    expect(created).toMatchObject({ ...profile, kind: 'registered', lastLoginAt: null });
    const fetched = await server.api('GET', `${users}/${created.id}`, { key: server.secretKey });
    expect(fetched.body).toMatchObject(profile);
    expect(Object.keys(fetched.body)).not.toContain('passwordHash');
  });

  it('refuses customData over 16 KiB and a short, long or common password, creating nothing', async () => {
    const email = uniqueEmail();
    const cases: [Record<string, unknown>, string, string?][] = [
      [{ customData: { blob: 'x'.repeat(17 * 1024) } }, 'invalid_request'],
      [{ password: 'short' }, 'weak_password', 'too_short'],
      [{ password: 'p'.repeat(257) }, 'weak_password', 'too_long'],
      [{ password: '1qaz2wsx3edc4rfv' }, 'weak_password', 'common'],
    ];
    for (const [fields, code, reason] of cases) {
      const response = await server.api('POST', users, {
        key: server.publishableKey,
        body: { email, password: PASSWORD, ...fields },
      });
      expect(response.status, code).toBe(400);
      expect(response.body).toMatchObject({
        error: { code, ...(reason === undefined ? {} : { details: { reason } }) },
      });
    }
    const listed = await server.api<Page<User>>('GET', `${users}?prefix=${encodeURIComponent(email)}`, {
      key: server.secretKey,
    });
    expect(listed.body.items).toEqual([]);
  });

  it('accepts a password of 15 code points that is 15 emoji, and normalises it (NFKC)', async () => {
    const emojiPassword = '🦄'.repeat(15);
    const { user } = await signUpAndLogIn(server, { password: emojiPassword });
    expect(user.id).toEqual(expect.any(String));
    const email = uniqueEmail();
    await signUp(server, { email, password: 'ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ' }); // full-width letters
    await expect(logIn(server, { email, password: 'correct horse battery' })).resolves.toMatchObject({
      user: { email },
    });
  });

  it('lets the app turn public signup off; the secret key may still sign users up', async () => {
    const admin = { token: server.adminToken };
    await server.api('PATCH', '/v1/admin/apps/demo/chat', { ...admin, body: { settings: { publicSignup: false } } });
    try {
      const refused = await server.api('POST', users, {
        key: server.publishableKey,
        body: { email: uniqueEmail(), password: PASSWORD },
      });
      expect(refused.body).toMatchObject({ error: { code: 'signup_disabled', status: 403 } });
      const allowed = await server.api('POST', users, {
        key: server.secretKey,
        body: { email: uniqueEmail(), password: PASSWORD },
      });
      expect(allowed.status).toBe(201);
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', { ...admin, body: { settings: { publicSignup: true } } });
    }
  });

  it('updates the own profile with PATCH /me', async () => {
    const { login } = await signUpAndLogIn(server);
    const response = await server.api('PATCH', '/v1/apps/demo/chat/me', {
      token: login.accessToken,
      body: { fullName: 'Mar Sim', username: 'marvin18sim', tags: [] },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ fullName: 'Mar Sim', username: 'marvin18sim', tags: [] });
  });

  it('changes the password only with the old one, and ends the other sessions', async () => {
    const { login, email } = await signUpAndLogIn(server);
    const other = await logIn(server, { email, password: PASSWORD });
    const me = '/v1/apps/demo/chat/me';

    const withoutOld = await server.api('PATCH', me, {
      token: login.accessToken,
      body: { password: 'a brand new secret' },
    });
    expect(withoutOld.body).toMatchObject({ error: { code: 'invalid_request' } });
    const wrongOld = await server.api('PATCH', me, {
      token: login.accessToken,
      body: { password: 'a brand new secret', oldPassword: 'not it at all' },
    });
    expect(wrongOld.status).toBe(403);
    expect(wrongOld.body).toMatchObject({ error: { code: 'wrong_password' } });
    expect((await server.api('GET', me, { token: other.accessToken })).status).toBe(200);

    const changed = await server.api('PATCH', me, {
      token: login.accessToken,
      body: { password: 'a brand new secret', oldPassword: PASSWORD },
    });
    expect(changed.status).toBe(200);
    expect((await server.api('GET', me, { token: login.accessToken })).status).toBe(200);
    expect((await server.api('GET', me, { token: other.accessToken })).body).toMatchObject({
      error: { code: 'session_revoked', details: { reason: 'password_changed' } },
    });
    await expect(logIn(server, { email, password: PASSWORD })).rejects.toThrow(/401/);
    await expect(logIn(server, { email, password: 'a brand new secret' })).resolves.toMatchObject({ user: { email } });
  });

  it('lists users a page at a time and searches by prefix', async () => {
    const stem = `pager${process.pid}x`;
    const created: User[] = [];
    for (let index = 0; index < 5; index += 1)
      created.push(await signUp(server, { email: `${stem}${index}@example.com` }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?prefix=${stem.toUpperCase()}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page: { body: Page<User> } = await server.api<Page<User>>('GET', `${users}${query}`, {
        key: server.secretKey,
      });
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((user) => user.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(created.map((user) => user.id));
    // "_" and "%" are literal in a prefix, not wildcards.
    expect(
      (await server.api<Page<User>>('GET', `${users}?prefix=pager%25`, { key: server.secretKey })).body.items,
    ).toEqual([]);
  });

  it('lets the secret key update, re-enable and delete a user', async () => {
    const { user, login, email } = await signUpAndLogIn(server);
    const path = `${users}/${user.id}`;
    expect(
      (await server.api('PATCH', path, { key: server.secretKey, body: { fullName: 'Renamed' } })).body,
    ).toMatchObject({ fullName: 'Renamed' });
    await server.api('PATCH', path, { key: server.secretKey, body: { disabled: true } });
    const enabled = await server.api('PATCH', path, { key: server.secretKey, body: { disabled: false } });
    expect(enabled.body).toMatchObject({ disabled: false });
    await expect(logIn(server, { email, password: PASSWORD })).resolves.toBeDefined();

    expect((await server.api('DELETE', path, { key: server.secretKey })).status).toBe(204);
    expect((await server.api('GET', path, { key: server.secretKey })).body).toMatchObject({
      error: { code: 'user_not_found', status: 404 },
    });
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: login.accessToken })).status).toBe(401);
    expect((await server.api('DELETE', path, { key: server.secretKey })).status).toBe(404);
  });
});
