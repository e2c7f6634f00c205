import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RevocationEvent } from '../../src/auth/sessions/revocations.js';
import { createOpaqueToken, parseOpaqueToken } from '../../src/lib/opaque-token.js';
import type { UserRecord } from '../../src/store/repositories/index.js';
import { backends } from '../helpers/backends.js';
import { openSessionParts, type SessionParts } from '../helpers/session-parts.js';

const GRACE_SECONDS = 10;
const CLIENT = { userAgent: null, ip: null };

describe.each(backends)('ReconnectTokens on $name', (backend) => {
  let parts: SessionParts;
  const revocations: RevocationEvent[] = [];
  beforeAll(async () => {
    parts = await openSessionParts(backend, {
      settings: { reconnectGracePeriod: GRACE_SECONDS, reconnectTokenTtl: 3600 },
    });
    parts.revocations.onRevoked((event) => void revocations.push(event));
  });
  afterAll(() => parts.close());

  /** A new user's session and its first reconnect token. */
  async function started(): Promise<{ user: UserRecord; token: string; sessionId: string }> {
    const user = await parts.newUser();
    const credentials = await parts.sessions.start(parts.app, user, 'local', CLIENT);
    return { user, token: credentials.reconnectToken, sessionId: credentials.session.id };
  }

  /** What the reconnect strategy and the authenticator do with a presented token. */
  async function redeem(token: string): Promise<string> {
    const { session, user, presented } = await parts.reconnectTokens.check(parts.app, token);
    const issued = await parts.sessions.issue(parts.app, user, session, { reconnectToken: presented });
    return issued.reconnectToken;
  }

  it('rotates: a redeemed token gives a successor, which resumes the same session once more', async () => {
    const { token, sessionId, user } = await started();
    const successor = await redeem(token);
    expect(successor).not.toBe(token);
    const checked = await parts.reconnectTokens.check(parts.app, successor);
    expect(checked.session.id).toBe(sessionId);
    expect(checked.user.id).toBe(user.id);
    expect(await redeem(successor)).not.toBe(successor);
  });

  it('gives a duplicate within the grace period the same successor, up to its last millisecond', async () => {
    const { token } = await started();
    const successor = await redeem(token);
    parts.clock.advance(GRACE_SECONDS * 1000 - 1);
    expect(await redeem(token)).toBe(successor);
    // The successor is still good: the duplicates spent nothing more.
    expect(await redeem(successor)).not.toBe(successor);
  });

  it('ends the session when a spent token comes back as the grace period ends, and tells the listeners', async () => {
    const { token, sessionId, user } = await started();
    const successor = await redeem(token);
    parts.clock.advance(GRACE_SECONDS * 1000);
    await expect(redeem(token)).rejects.toMatchObject({ code: 'reconnect_token_reused' });
    expect(revocations.at(-1)).toEqual({
      appId: parts.app.id,
      userId: user.id,
      sessionIds: [sessionId],
      reason: 'reconnect_token_reused',
    });
    await expect(parts.reconnectTokens.check(parts.app, successor)).rejects.toMatchObject({
      code: 'session_revoked',
      details: { reason: 'reconnect_token_reused' },
    });
  });

  it('takes a spent token for reuse, even within the grace period, once its successor was used', async () => {
    const { token, sessionId } = await started();
    const successor = await redeem(token);
    await redeem(successor);
    await expect(redeem(token)).rejects.toMatchObject({ code: 'reconnect_token_reused' });
    expect((await parts.repositories.sessions.findById(sessionId))?.revokedReason).toBe('reconnect_token_reused');
  });

  it('gives a forged secret for the id of a spent token nothing, and ends nothing', async () => {
    const { token, sessionId } = await started();
    await redeem(token);
    const real = parseOpaqueToken(token)!;
    const forged = token.replace(real.secret, parseOpaqueToken(createOpaqueToken('rt').token)!.secret);
    await expect(redeem(forged)).rejects.toMatchObject({ code: 'invalid_token' });
    expect(await parts.reconnectTokens.ownerOf(forged)).toBeUndefined();
    expect((await parts.repositories.sessions.findById(sessionId))?.revokedAt).toBeNull();
  });

  it("names a token's owner without spending it; anything else has no owner", async () => {
    const { token, sessionId, user } = await started();
    expect(await parts.reconnectTokens.ownerOf(token)).toEqual({ appId: parts.app.id, userId: user.id, sessionId });
    expect(await parts.reconnectTokens.ownerOf('rt_nope.nope')).toBeUndefined();
    expect(await parts.reconnectTokens.ownerOf('not a token')).toBeUndefined();
    await redeem(token);
  });

  it("answers the session's state before the token's own expiry", async () => {
    const { token, user } = await started();
    parts.clock.advance(3600 * 1000);
    await expect(parts.reconnectTokens.check(parts.app, token)).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'The reconnect token has expired.',
    });
    await parts.sessions.revokeAll(user, 'logout');
    await expect(parts.reconnectTokens.check(parts.app, token)).rejects.toMatchObject({ code: 'session_revoked' });
  });
});
