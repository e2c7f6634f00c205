import { describe, expect, it } from 'vitest';
import type { Principal } from '../src/index.js';
import { VerifiedTokenCache } from '../src/token-cache.js';

const principal = (expiresAt: number) => ({ userId: 'u', sessionId: 's', expiresAt }) as Principal;

// issue 15: the verified-token cache is bounded and ends each entry at its token's exp.
describe('the verified-token cache', () => {
  it('keeps the most recently used entries up to its bound', () => {
    const cache = new VerifiedTokenCache(2, () => 0);
    cache.set('a', principal(10));
    cache.set('b', principal(10));
    cache.get('a');
    cache.set('c', principal(10));
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map((entry) => entry !== undefined)).toEqual([
      true,
      false,
      true,
    ]);
  });

  it("forgets an entry at its token's expiry, and never keeps an expired one", () => {
    let now = 0;
    const cache = new VerifiedTokenCache(10, () => now);
    cache.set('a', principal(10));
    now = 9;
    expect(cache.get('a')).toBeDefined();
    now = 10;
    expect(cache.get('a')).toBeUndefined();
    cache.set('b', principal(10));
    expect(cache.get('b')).toBeUndefined();
  });

  it("forgets one user's tokens when the feed says the user changed", () => {
    const cache = new VerifiedTokenCache(10, () => 0);
    const of = (userId: string) => ({ userId, sessionId: 's', expiresAt: 10 }) as Principal;
    cache.set('a1', of('a'));
    cache.set('b1', of('b'));
    cache.set('a2', of('a'));
    cache.forgetUser('a');
    expect(['a1', 'b1', 'a2'].map((token) => cache.get(token) !== undefined)).toEqual([false, true, false]);
  });

  it('keeps nothing with a bound of 0', () => {
    const cache = new VerifiedTokenCache(0, () => 0);
    cache.set('a', principal(10));
    expect(cache.get('a')).toBeUndefined();
  });
});
