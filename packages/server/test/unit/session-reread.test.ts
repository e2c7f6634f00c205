import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/ids.js';
import type { SessionRecord, UserRecord } from '../../src/store/repositories/index.js';
import { backends } from '../helpers/backends.js';
import { openSessionParts, type SessionParts } from '../helpers/session-parts.js';

const CLIENT = { userAgent: 'unit', ip: '203.0.113.9' };
const CACHE_TTL_MS = 2000;

/** Issue 16: a cached session is read again with its user in one statement. */
describe.each(backends)('Rereading a session on $name', (backend) => {
  let parts: SessionParts;
  beforeAll(async () => {
    parts = await openSessionParts(backend, { cacheTtlMs: CACHE_TTL_MS });
  });
  afterAll(() => parts.close());

  /** A session of `user`, its row written as the service writes it. */
  async function insertSession(user: UserRecord, appId = parts.app.id): Promise<SessionRecord> {
    const now = parts.clock.now();
    return parts.repositories.sessions.insert({
      id: uuidv7(now),
      app_id: appId,
      user_id: user.id,
      strategy: 'local',
      created_at: now,
      last_seen_at: now,
      idle_expires_at: now + 60_000,
      expires_at: now + 3_600_000,
      user_agent: null,
      ip: '198.51.100.7',
    });
  }

  /** What the two reads the joined one replaces give. */
  async function readApart(sessionId: string) {
    const session = await parts.repositories.sessions.findById(sessionId);
    const user = session && (await parts.repositories.users.findById(session.appId, session.userId));
    return session && { session, user };
  }

  it('reads a session and its user as findById and users.findById read them, every column', async () => {
    const user = await parts.newUser();
    await parts.repositories.users.update(parts.app.id, user.id, {
      email: 'Someone@Example.com',
      email_key: 'someone@example.com',
      full_name: 'Some One',
      phone: '+33 1 23 45 67 89',
      website: 'https://example.com',
      avatar_url: 'https://example.com/a.png',
      tags: JSON.stringify(['b', 'a']),
      custom_data: JSON.stringify({ plan: 'pro', seats: 3, nested: { on: true, list: [1, null] } }),
      roles: JSON.stringify(['admin']),
      password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      external_id: 'ext-1',
      updated_at: parts.clock.now() + 1,
      last_login_at: parts.clock.now() + 2,
      expires_at: parts.clock.now() + 3,
    });
    const session = await insertSession(user);
    await parts.repositories.sessions.revoke(session.id, 'logout', parts.clock.now() + 4);

    const joined = await parts.repositories.sessions.findWithUser(session.id);
    const apart = await readApart(session.id);
    expect(apart?.user?.customData).toEqual({ plan: 'pro', seats: 3, nested: { on: true, list: [1, null] } });
    expect(apart?.session.revokedReason).toBe('logout');
    expect(joined).toStrictEqual(apart);
    // No column is left out, and none is read as a string where the record holds a number.
    expect(Object.keys(joined!.user!).sort()).toEqual(Object.keys(apart!.user!).sort());
    expect(typeof joined!.user!.lastLoginAt).toBe('number');
    expect(typeof joined!.session.idleExpiresAt).toBe('number');
  });

  it('reads a disabled or ended user as it is (the caller refuses it)', async () => {
    const user = await parts.newUser();
    const session = await insertSession(user);
    const now = parts.clock.now();
    await parts.repositories.users.update(parts.app.id, user.id, { disabled_at: now, ended_at: now + 1 });
    const joined = await parts.repositories.sessions.findWithUser(session.id);
    expect(joined?.user).toMatchObject({ id: user.id, disabledAt: now, endedAt: now + 1 });
    expect(joined).toStrictEqual(await readApart(session.id));
  });

  it('finds no session that is not there, nor one whose user was deleted (it goes with its user)', async () => {
    expect(await parts.repositories.sessions.findWithUser(uuidv7(parts.clock.now()))).toBeUndefined();
    const user = await parts.newUser();
    const session = await insertSession(user);
    expect(await parts.repositories.users.delete(parts.app.id, user.id)).toBe(true);
    expect(await parts.repositories.sessions.findWithUser(session.id)).toBeUndefined();
    await expect(parts.sessions.reread(parts.app, session.id)).rejects.toMatchObject({
      code: 'session_revoked',
      details: { reason: 'user_deleted' },
    });
  });

  it("gives no user for a session whose user is not of the session's app, as users.findById would", async () => {
    const now = parts.clock.now();
    const other = await parts.repositories.apps.insertApp(
      {
        id: uuidv7(now),
        namespace_id: parts.app.namespaceId,
        name: 'other',
        settings: parts.app.settings,
        created_at: now,
      },
      parts.app.namespace,
    );
    const user = await parts.newUser();
    const session = await insertSession(user, other.id);
    const joined = await parts.repositories.sessions.findWithUser(session.id);
    expect(joined).toStrictEqual({ session, user: undefined });
    expect(await parts.repositories.users.findById(other.id, user.id)).toBeUndefined();
    await expect(parts.sessions.reread(other, session.id)).rejects.toMatchObject({
      code: 'session_revoked',
      details: { reason: 'user_deleted' },
    });
    await expect(parts.sessions.reread(parts.app, session.id)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('takes every change made past the service at the next reread', async () => {
    const user = await parts.newUser();
    const { accessToken, session } = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    await parts.sessions.authenticate(parts.app, accessToken);

    // The user changed past the service (the CLI): the next reread takes the new record.
    await parts.repositories.users.recordLogin(parts.app.id, user.id, parts.clock.now());
    parts.clock.advance(CACHE_TTL_MS);
    const loggedIn = await parts.sessions.authenticate(parts.app, accessToken);
    expect(loggedIn.user.lastLoginAt).toBe(parts.clock.now() - CACHE_TTL_MS);

    // Activity written by another node: its lastSeenAt and idle expiry are picked up.
    const elsewhere = parts.clock.now() + 500;
    await parts.repositories.sessions.touch(session.id, elsewhere, elsewhere + 600_000);
    parts.clock.advance(CACHE_TTL_MS);
    const touched = await parts.sessions.authenticate(parts.app, accessToken);
    expect(touched.session).toMatchObject({ lastSeenAt: elsewhere, idleExpiresAt: elsewhere + 600_000 });

    await parts.repositories.users.update(parts.app.id, user.id, { tags: '["x"]' });
    parts.clock.advance(CACHE_TTL_MS);
    expect((await parts.sessions.authenticate(parts.app, accessToken)).user.tags).toEqual(['x']);

    // Disabled past the service: refused at the next reread.
    await parts.repositories.users.update(parts.app.id, user.id, { disabled_at: parts.clock.now() });
    parts.clock.advance(CACHE_TTL_MS);
    await expect(parts.sessions.authenticate(parts.app, accessToken)).rejects.toMatchObject({ code: 'user_disabled' });
  });

  it('does not keep a view whose session was revoked past the service', async () => {
    const user = await parts.newUser();
    const { accessToken, session } = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    await parts.sessions.authenticate(parts.app, accessToken);
    await parts.repositories.sessions.revoke(session.id, 'revoked', parts.clock.now());
    parts.clock.advance(CACHE_TTL_MS);
    await expect(parts.sessions.authenticate(parts.app, accessToken)).rejects.toMatchObject({
      code: 'session_revoked',
      details: { reason: 'revoked' },
    });
  });
});
