import { describe, expect, it } from 'vitest';
import { SessionCache, type CachedSession } from '../../src/auth/sessions/session-cache.js';
import { ManualClock } from '../../src/lib/clock.js';
import type { SessionRecord, UserRecord } from '../../src/store/repositories/index.js';

const TTL_MS = 2000;

function entry(sessionId: string, userId: string, loadedAt: number): CachedSession {
  // Only the ids matter to the cache; the rest of the records is not read.
  return { session: { id: sessionId, userId } as SessionRecord, user: { id: userId } as UserRecord, loadedAt };
}

function cache(maxEntries: number) {
  const clock = new ManualClock();
  return { clock, sessions: new SessionCache(clock, TTL_MS, maxEntries) };
}

describe('SessionCache (issue 12)', () => {
  it('holds at most maxEntries sessions, and its per-user index follows evictions', () => {
    const { clock, sessions } = cache(100);
    for (let index = 0; index < 10_000; index += 1)
      sessions.set(entry(`s${index}`, `u${index}`, clock.now()), sessions.generation);
    expect(sessions.size).toEqual({ sessions: 100, users: 100 });
    expect(sessions.get('s0', clock.now())).toBeUndefined();
    expect(sessions.get('s9999', clock.now())?.user.id).toBe('u9999');
  });

  it('forgets an entry sessionCacheTtlMs after it was loaded, and unindexes it', () => {
    const { clock, sessions } = cache(100);
    const loadedAt = clock.now();
    clock.advance(500);
    sessions.set(entry('s1', 'u1', loadedAt), sessions.generation);
    clock.advance(TTL_MS - 501);
    expect(sessions.get('s1', clock.now())).toBeDefined();
    clock.advance(1);
    expect(sessions.get('s1', clock.now())).toBeUndefined();
    expect(sessions.size).toEqual({ sessions: 0, users: 0 });
  });

  it('invalidates every session of a user, an evicted one included', () => {
    const { clock, sessions } = cache(3);
    for (const id of ['a1', 'a2', 'b1', 'a3'])
      sessions.set(entry(id, id.startsWith('a') ? 'alice' : 'bob', clock.now()), sessions.generation);
    expect(sessions.get('a1', clock.now())).toBeUndefined();
    sessions.invalidateUser('alice');
    expect(sessions.get('a2', clock.now())).toBeUndefined();
    expect(sessions.get('a3', clock.now())).toBeUndefined();
    expect(sessions.get('b1', clock.now())?.user.id).toBe('bob');
    expect(sessions.size).toEqual({ sessions: 1, users: 1 });
  });

  it('does not keep an entry read before an invalidation', () => {
    const { clock, sessions } = cache(10);
    const generation = sessions.generation;
    sessions.invalidateSession('s1');
    sessions.set(entry('s1', 'u1', clock.now()), generation);
    expect(sessions.get('s1', clock.now())).toBeUndefined();
  });
});

describe('SessionCache: an expired view kept for a reread (issue 16)', () => {
  it('hands an expired entry to a reread without dropping it, and renews it from the read', () => {
    const { clock, sessions } = cache(10);
    const held = entry('s1', 'u1', clock.now());
    sessions.set(held, sessions.generation);
    clock.advance(TTL_MS);
    const generation = sessions.generation;
    expect(sessions.getOrExpired('s1', clock.now())).toBe(held);
    expect(sessions.isFresh(held, clock.now())).toBe(false);
    expect(sessions.renew(held, clock.now(), generation)).toBe(true);
    expect(held.loadedAt).toBe(clock.now());
    clock.advance(TTL_MS - 1);
    expect(sessions.get('s1', clock.now())).toBe(held);
    expect(sessions.size).toEqual({ sessions: 1, users: 1 });
  });

  it('renews nothing invalidated since the read began, nor an entry another read replaced', () => {
    const { clock, sessions } = cache(10);
    const held = entry('s1', 'u1', clock.now());
    sessions.set(held, sessions.generation);
    clock.advance(TTL_MS);
    const generation = sessions.generation;
    sessions.invalidateUser('u9');
    expect(sessions.renew(held, clock.now(), generation)).toBe(false);
    expect(held.loadedAt).toBe(clock.now() - TTL_MS);

    const newer = entry('s1', 'u1', clock.now());
    sessions.set(newer, sessions.generation);
    expect(sessions.renew(held, clock.now(), sessions.generation)).toBe(false);
    expect(sessions.get('s1', clock.now())).toBe(newer);
  });
});
