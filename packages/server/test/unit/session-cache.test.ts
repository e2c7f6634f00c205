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
