import type { SessionRecord, UserRecord } from '../../store/repositories/index.js';

export interface CachedSession {
  session: SessionRecord;
  user: UserRecord;
  loadedAt: number;
}

/**
 * This node's recent view of sessions and their users, so that an authenticated request does
 * not read the database every time. Every change made through this node invalidates the
 * entries it touches at once; `ttlMs` bounds how stale an entry may be after a change made
 * elsewhere (another node, the CLI).
 */
export class SessionCache {
  private readonly entries = new Map<string, CachedSession>();
  private readonly sessionsByUser = new Map<string, Set<string>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  get(sessionId: string, now: number): CachedSession | undefined {
    const entry = this.entries.get(sessionId);
    if (entry === undefined) return undefined;
    if (now - entry.loadedAt < this.ttlMs) return entry;
    this.invalidateSession(sessionId);
    return undefined;
  }

  set(entry: CachedSession): void {
    if (this.ttlMs === 0) return;
    if (this.entries.size >= this.maxEntries) this.evictOldest();
    this.entries.set(entry.session.id, entry);
    let sessions = this.sessionsByUser.get(entry.user.id);
    if (sessions === undefined) this.sessionsByUser.set(entry.user.id, (sessions = new Set()));
    sessions.add(entry.session.id);
  }

  invalidateSession(sessionId: string): void {
    const entry = this.entries.get(sessionId);
    if (entry === undefined) return;
    this.entries.delete(sessionId);
    const sessions = this.sessionsByUser.get(entry.user.id);
    sessions?.delete(sessionId);
    if (sessions?.size === 0) this.sessionsByUser.delete(entry.user.id);
  }

  invalidateUser(userId: string): void {
    for (const sessionId of this.sessionsByUser.get(userId) ?? []) this.entries.delete(sessionId);
    this.sessionsByUser.delete(userId);
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done !== true) this.invalidateSession(oldest.value);
  }
}
