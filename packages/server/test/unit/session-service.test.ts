import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RevocationEvent } from '../../src/auth/sessions/revocations.js';
import { TOUCH_INTERVAL_MS } from '../../src/auth/sessions/session-service.js';
import { backends } from '../helpers/backends.js';
import { openSessionParts, type SessionParts } from '../helpers/session-parts.js';

const CLIENT = { userAgent: 'unit', ip: '203.0.113.9' };
const IDLE_SECONDS = 600;

describe.each(backends)('SessionService on $name', (backend) => {
  let parts: SessionParts;
  const revoked: RevocationEvent[] = [];
  beforeAll(async () => {
    parts = await openSessionParts(backend, { settings: { sessionIdleTimeout: IDLE_SECONDS } });
    parts.revocations.onRevoked((event) => void revoked.push(event));
  });
  afterAll(() => parts.close());

  it('starts a session with its tokens and the login stamp; its access token authenticates', async () => {
    const user = await parts.newUser();
    const started = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    const now = parts.clock.now();
    expect(started.session).toMatchObject({ userId: user.id, strategy: 'local', createdAt: now, ...CLIENT });
    expect(started.session.idleExpiresAt).toBe(now + IDLE_SECONDS * 1000);
    expect(user.lastLoginAt).toBe(now);
    expect((await parts.repositories.users.findById(parts.app.id, user.id))?.lastLoginAt).toBe(now);
    const context = await parts.sessions.authenticate(parts.app, started.accessToken);
    expect(context.session.id).toBe(started.session.id);
    expect(context.user.id).toBe(user.id);
    expect(await parts.reconnectTokens.ownerOf(started.reconnectToken)).toMatchObject({
      sessionId: started.session.id,
    });
  });

  it('writes nothing of a session whose transaction fails, the caller\'s writes "alongside" included', async () => {
    const user = await parts.newUser();
    const failing = parts.sessions.start(parts.app, user, 'local', CLIENT, {
      alongside: async (repositories) => {
        await repositories.users.update(parts.app.id, user.id, { full_name: 'Rolled Back' });
        throw new Error('the caller changed its mind');
      },
    });
    await expect(failing).rejects.toThrow('the caller changed its mind');
    expect(await parts.sessions.list(user)).toEqual([]);
    const stored = await parts.repositories.users.findById(parts.app.id, user.id);
    expect(stored).toMatchObject({ fullName: null, lastLoginAt: null });
  });

  it('returns what "alongside" gave, and with endingOthers ends the other sessions once it committed', async () => {
    const user = await parts.newUser();
    const first = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    const second = await parts.sessions.start(parts.app, user, 'local', CLIENT, {
      endingOthers: 'user_upgraded',
      alongside: () => Promise.resolve('given back'),
    });
    expect(second.alongside).toBe('given back');
    expect((await parts.sessions.list(user)).map((session) => session.id)).toEqual([second.session.id]);
    expect(revoked.at(-1)).toEqual({
      appId: parts.app.id,
      userId: user.id,
      sessionIds: [first.session.id],
      reason: 'user_upgraded',
    });
    await expect(parts.sessions.authenticate(parts.app, first.accessToken)).rejects.toMatchObject({
      code: 'session_revoked',
      details: { reason: 'user_upgraded' },
    });
  });

  it('answers a known token from the cache synchronously, and writes activity at most once a touch interval', async () => {
    const user = await parts.newUser();
    const { accessToken, session } = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    await parts.sessions.authenticate(parts.app, accessToken);
    const again = parts.sessions.authenticate(parts.app, accessToken);
    expect(again).not.toBeInstanceOf(Promise);
    parts.clock.advance(TOUCH_INTERVAL_MS);
    const touched = await parts.sessions.authenticate(parts.app, accessToken);
    expect(touched.session.lastSeenAt).toBe(parts.clock.now());
    expect((await parts.repositories.sessions.findById(session.id))?.idleExpiresAt).toBe(
      parts.clock.now() + IDLE_SECONDS * 1000,
    );
  });

  it('refuses a session idle for its whole idle timeout', async () => {
    const user = await parts.newUser();
    const { accessToken } = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    parts.clock.advance(IDLE_SECONDS * 1000);
    await expect(parts.sessions.authenticate(parts.app, accessToken)).rejects.toMatchObject({
      code: 'session_expired',
    });
  });

  it('issues new tokens for a live session and counts it as activity', async () => {
    const user = await parts.newUser();
    const { session, reconnectToken } = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    parts.clock.advance(5000);
    const issued = await parts.sessions.issue(parts.app, user, session, undefined);
    expect(issued.session.id).toBe(session.id);
    expect(issued.reconnectToken).not.toBe(reconnectToken);
    expect(await parts.reconnectTokens.ownerOf(reconnectToken)).toBeDefined();
    await expect(parts.reconnectTokens.check(parts.app, issued.reconnectToken)).resolves.toBeDefined();
    expect((await parts.repositories.sessions.findById(session.id))?.lastSeenAt).toBe(parts.clock.now());
  });

  it('lists live sessions, revokes one of the user (not of another user), and tells the listeners', async () => {
    const user = await parts.newUser();
    const other = await parts.newUser();
    const kept = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    const ended = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    const foreign = await parts.sessions.start(parts.app, other, 'local', CLIENT);
    expect(await parts.sessions.revoke(user, foreign.session.id, 'revoked')).toBe(false);
    expect(await parts.sessions.revoke(user, ended.session.id, 'logout')).toBe(true);
    expect(revoked.at(-1)).toMatchObject({ userId: user.id, sessionIds: [ended.session.id], reason: 'logout' });
    expect(await parts.sessions.revoke(user, ended.session.id, 'logout')).toBe(false);
    expect((await parts.sessions.list(user)).map((session) => session.id)).toEqual([kept.session.id]);
    expect((await parts.sessions.list(other)).map((session) => session.id)).toEqual([foreign.session.id]);
  });

  it('revokes every session of a user but one, and none when the writes alongside fail', async () => {
    const user = await parts.newUser();
    const sessions = [
      await parts.sessions.start(parts.app, user, 'local', CLIENT),
      await parts.sessions.start(parts.app, user, 'local', CLIENT),
      await parts.sessions.start(parts.app, user, 'local', CLIENT),
    ];
    const heard = revoked.length;
    const failing = parts.sessions.revokeAll(user, 'user_deleted', undefined, {
      alongside: () => Promise.reject(new Error('rolled back')),
    });
    await expect(failing).rejects.toThrow('rolled back');
    expect(revoked.length).toBe(heard);
    expect(await parts.sessions.list(user)).toHaveLength(3);
    const ended = await parts.sessions.revokeAll(user, 'password_changed', sessions[0]!.session.id);
    expect(ended.sort()).toEqual([sessions[1]!.session.id, sessions[2]!.session.id].sort());
    expect(revoked.at(-1)).toMatchObject({ userId: user.id, reason: 'password_changed' });
    expect((await parts.sessions.list(user)).map((session) => session.id)).toEqual([sessions[0]!.session.id]);
  });

  it('rereads a session from the store, where the cache still holds an older view', async () => {
    const user = await parts.newUser();
    const { accessToken, session } = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    await parts.sessions.authenticate(parts.app, accessToken);
    // Written past the service, as the CLI does: nobody was told.
    await parts.repositories.sessions.revoke(session.id, 'revoked', parts.clock.now());
    expect(parts.sessions.authenticate(parts.app, accessToken)).toMatchObject({ session: { revokedAt: null } });
    await expect(parts.sessions.reread(parts.app, session.id)).rejects.toMatchObject({
      code: 'session_revoked',
      details: { reason: 'revoked' },
    });
  });
});
