import { BoundedCache } from '../../lib/bounded-cache.js';
import type { Clock } from '../../lib/clock.js';
import type { SessionRecord, UserRecord } from '../../store/repositories/index.js';

export interface CachedSession {
  session: SessionRecord;
  user: UserRecord;
  loadedAt: number;
}

/**
 * This node's recent view of sessions and their users, so that an authenticated request does
 * not read the database every time. Every change made through any node of the cluster
 * invalidates the entries it touches (the other nodes' changes arrive over the cluster bus);
 * `ttlMs` bounds how stale an entry may be after a change no node announced (the CLI), or
 * whose message was lost: an entry is never used `ttlMs` or more after it was read. At most
 * `maxEntries` sessions are kept, the least recently used going first.
 */
export class SessionCache {
  private readonly entries: BoundedCache<string, CachedSession>;
  /** The cached sessions of each user, to invalidate a user's at once; it follows `entries`, evictions included. */
  private readonly sessionsByUser = new Map<string, Set<string>>();
  private invalidations = 0;

  constructor(
    clock: Clock,
    readonly ttlMs: number,
    maxEntries = 50_000,
  ) {
    this.entries = new BoundedCache({
      clock,
      maxEntries,
      ttlMs,
      onEvict: (sessionId, entry) => this.unindex(sessionId, entry),
    });
  }

  /** Sessions held, and users indexed (for tests: neither ever passes `maxEntries`). */
  get size(): { sessions: number; users: number } {
    return { sessions: this.entries.size, users: this.sessionsByUser.size };
  }

  get(sessionId: string, now: number): CachedSession | undefined {
    return this.entries.get(sessionId, now) ?? undefined;
  }

  /** Moves on with every invalidation; a reader takes it before reading the store and hands it to `set`. */
  get generation(): number {
    return this.invalidations;
  }

  /** Keeps `entry`, unless something was invalidated since `generation` was taken: the entry may predate that change. */
  set(entry: CachedSession, generation: number): void {
    if (this.ttlMs === 0 || generation !== this.invalidations) return;
    this.entries.set(entry.session.id, entry, { since: entry.loadedAt });
    let sessions = this.sessionsByUser.get(entry.user.id);
    if (sessions === undefined) this.sessionsByUser.set(entry.user.id, (sessions = new Set()));
    sessions.add(entry.session.id);
  }

  invalidateSession(sessionId: string): void {
    this.invalidations += 1;
    const entry = this.entries.delete(sessionId);
    if (entry !== undefined) this.unindex(sessionId, entry);
  }

  invalidateUser(userId: string): void {
    this.invalidations += 1;
    for (const sessionId of this.sessionsByUser.get(userId) ?? []) this.entries.delete(sessionId);
    this.sessionsByUser.delete(userId);
  }

  clear(): void {
    this.invalidations += 1;
    this.entries.clear();
    this.sessionsByUser.clear();
  }

  private unindex(sessionId: string, entry: CachedSession): void {
    const sessions = this.sessionsByUser.get(entry.user.id);
    sessions?.delete(sessionId);
    if (sessions?.size === 0) this.sessionsByUser.delete(entry.user.id);
  }
}
