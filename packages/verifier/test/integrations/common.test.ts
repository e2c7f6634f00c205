import { describe, expect, it } from 'vitest';
import { VerifierError } from '../../src/index.js';
import { bearerToken, closeCodeOf, ConnectionIndex, refusalHeaders } from '../../src/integrations/common.js';

// issue 15 item 4: what the integrations share.
describe("the integrations' shared parts", () => {
  it('indexes connections by session and by user, and keeps nothing once they are removed', () => {
    const index = new ConnectionIndex<object>();
    const [a, b, c] = [{}, {}, {}];
    index.add(a, { userId: 'u1', sessionId: 's1' });
    index.add(b, { userId: 'u1', sessionId: 's2' });
    index.add(c, { userId: 'u2', sessionId: 's3' });
    expect(index.ended({ userId: 'u1', sessionId: 's1', code: 'session_revoked' })).toEqual([a]);
    expect(index.ended({ userId: 'u1', code: 'user_disabled' })).toEqual([a, b]);
    expect(index.ended({ userId: 'u9', sessionId: 's9', code: 'session_revoked' })).toEqual([]);
    expect([index.size, index.keys]).toEqual([3, 5]);
    for (let round = 0; round < 1_000; round += 1) {
      const connection = {};
      index.add(connection, { userId: `user-${round}`, sessionId: `session-${round}` });
      index.remove(connection, { userId: `user-${round}`, sessionId: `session-${round}` });
    }
    index.remove(a, { userId: 'u1', sessionId: 's1' });
    index.remove(b, { userId: 'u1', sessionId: 's2' });
    index.remove(c, { userId: 'u2', sessionId: 's3' });
    expect([index.size, index.keys]).toEqual([0, 0]);
  });

  it('reads a bearer token, refuses another scheme, and answers RFC 6750 headers and close codes', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   abc')).toBe('abc');
    for (const header of ['Basic abc', 'Bearer', 'Bearer a b', ['Bearer a', 'Bearer b']])
      expect(() => bearerToken(header)).toThrow(expect.objectContaining({ code: 'invalid_token' }) as Error);
    expect(refusalHeaders(new VerifierError('missing_credentials'))).toMatchObject({ 'www-authenticate': 'Bearer' });
    expect(refusalHeaders(new VerifierError('token_expired'))).toMatchObject({
      'www-authenticate': 'Bearer error="invalid_token"',
    });
    expect(refusalHeaders(new VerifierError('unavailable'))).toEqual({
      'cache-control': 'no-store',
      'retry-after': '1',
    });
    expect(closeCodeOf(new VerifierError('session_revoked'))).toBe(4115);
    expect(closeCodeOf(new VerifierError('user_disabled'))).toBe(4116);
  });
});
