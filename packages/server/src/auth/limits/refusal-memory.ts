import type { Clock } from '../../lib/clock.js';

/** More refused callers than this at once are an attack from many addresses; the oldest are forgotten first. */
const MAX_ENTRIES = 10_000;

/**
 * This node's memory of which counters are over their limit, and until when: checking it costs
 * no round trip, so a refused guesser is turned away before its credential is checked. Bounded:
 * expired entries go first, then the oldest (a forgotten caller is refused again on its next
 * failure, as the shared counter is still over).
 */
export class RefusalMemory {
  private readonly until = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.until.size;
  }

  /** Milliseconds until `key` may try again, or undefined when it is not refused. */
  remaining(key: string): number | undefined {
    const until = this.until.get(key);
    if (until === undefined) return undefined;
    const remainingMs = until - this.clock.now();
    if (remainingMs > 0) return remainingMs;
    this.until.delete(key);
    return undefined;
  }

  remember(key: string, forMs: number): void {
    if (this.until.size >= MAX_ENTRIES) this.evict();
    this.until.delete(key);
    this.until.set(key, this.clock.now() + forMs);
  }

  private evict(): void {
    const now = this.clock.now();
    for (const [key, until] of this.until) if (until <= now) this.until.delete(key);
    // Insertion order is age order: drop the oldest until there is room.
    for (const key of this.until.keys()) {
      if (this.until.size < MAX_ENTRIES) break;
      this.until.delete(key);
    }
  }
}
