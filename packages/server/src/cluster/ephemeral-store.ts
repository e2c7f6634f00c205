/**
 * Short-lived shared state with expiry: rate-limit and lockout counters, one-time values. Every
 * operation is atomic, so several nodes sharing one Redis count and consume exactly once.
 * Times are milliseconds. Two adapters: in-process (one node) and Redis (a cluster).
 */
export interface EphemeralStore {
  /** Stores `value` under `key` for `ttlMs`, replacing what was there. */
  setEx(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | undefined>;
  /** Reads and deletes in one step: of several callers, only one gets the value. */
  take(key: string): Promise<string | undefined>;
  /**
   * Adds one to the counter under `key` and returns the new count. A counter that did not exist
   * starts at 1 and expires `ttlMs` later; incrementing does not move its expiry.
   */
  incrWithTtl(key: string, ttlMs: number): Promise<number>;
  /** Milliseconds until `key` expires, or undefined when it does not exist. */
  ttl(key: string): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
