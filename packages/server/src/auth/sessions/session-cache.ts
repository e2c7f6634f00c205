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
 * whose message was lost: an entry is never used `ttlMs` or more after it was read.
 */
export class SessionCache {
  private readonly entries = new Map<string, CachedSession>();
  private readonly sessionsByUser = new Map<string, Set<string>>();
  private invalidations = 0;

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  get(sessionId: string, now: number): CachedSession | undefined {
    const entry = this.entries.get(sessionId);
    if (entry === undefined) return undefined;
    if (now - entry.loadedAt < this.ttlMs) return entry;
    this.forget(sessionId);
    return undefined;
  }

  /** Moves on with every invalidation; a reader takes it before reading the store and hands it to `set`. */
  get generation(): number {
    return this.invalidations;
  }

  /** Keeps `entry`, unless something was invalidated since `generation` was taken: the entry may predate that change. */
  set(entry: CachedSession, generation: number): void {
    if (this.ttlMs === 0 || generation !== this.invalidations) return;
    if (this.entries.size >= this.maxEntries) this.evictOldest();
    this.entries.set(entry.session.id, entry);
    let sessions = this.sessionsByUser.get(entry.user.id);
    if (sessions === undefined) this.sessionsByUser.set(entry.user.id, (sessions = new Set()));
    sessions.add(entry.session.id);
  }

  invalidateSession(sessionId: string): void {
    this.invalidations += 1;
    this.forget(sessionId);
  }

  private forget(sessionId: string): void {
    const entry = this.entries.get(sessionId);
    if (entry === undefined) return;
    this.entries.delete(sessionId);
    const sessions = this.sessionsByUser.get(entry.user.id);
    sessions?.delete(sessionId);
    if (sessions?.size === 0) this.sessionsByUser.delete(entry.user.id);
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

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done !== true) this.forget(oldest.value);
  }
}
