import { BoundedCache } from '../../lib/bounded-cache.js';
import type { Clock } from '../../lib/clock.js';
import type { SessionRecord, UserRecord } from '../../store/repositories/index.js';

/**
 * How long an expired view is held for a reread to compare with (issue 16): a client calling
 * every few seconds then finds its session's records kept, not made again on each call.
 */
const EXPIRED_KEPT_MS = 60_000;

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
      // Held past `ttlMs` (never used then) for a reread to compare with: see `getOrExpired`.
      ttlMs: ttlMs + EXPIRED_KEPT_MS,
      onEvict: (sessionId, entry) => this.unindex(sessionId, entry),
    });
  }

  /** Sessions held, and users indexed (for tests: neither ever passes `maxEntries`). */
  get size(): { sessions: number; users: number } {
    return { sessions: this.entries.size, users: this.sessionsByUser.size };
  }

  get(sessionId: string, now: number): CachedSession | undefined {
    const entry = this.entries.get(sessionId, now);
    if (entry === undefined || this.isFresh(entry, now)) return entry;
    this.entries.delete(sessionId);
    this.unindex(sessionId, entry);
    return undefined;
  }

  /**
   * The entry, fresh or expired (`isFresh` tells), for a reread of the store: an expired one is
   * held for `EXPIRED_KEPT_MS` more (within `maxEntries`), so that a reread that finds the rows
   * unchanged keeps its records (`renew`) rather than making new ones to outlive a scavenge.
   */
  getOrExpired(sessionId: string, now: number): CachedSession | undefined {
    return this.entries.getOrExpired(sessionId, now);
  }

  /** Whether `entry` may still be used at `now`: read less than `ttlMs` ago. */
  isFresh(entry: CachedSession, now: number): boolean {
    return now < entry.loadedAt + this.ttlMs;
  }

  /**
   * Keeps `entry`, as held, as read again at `loadedAt` (its records equal the store's rows), if
   * it is still the one held and nothing was invalidated since `generation`. False when it is not kept.
   */
  renew(entry: CachedSession, loadedAt: number, generation: number): boolean {
    if (this.ttlMs === 0 || generation !== this.invalidations) return false;
    if (this.entries.getOrExpired(entry.session.id, loadedAt) !== entry) return false;
    entry.loadedAt = loadedAt;
    this.entries.set(entry.session.id, entry, { since: loadedAt });
    return true;
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
