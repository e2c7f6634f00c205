import type { Clock } from './clock.js';

export interface BoundedCacheOptions<K, V> {
  clock: Clock;
  maxEntries: number;
  /** How long an entry is kept after it was set, unless `set` says otherwise. `Infinity` for never. */
  ttlMs: number;
  /** Known misses kept at once; 0 (the default) keeps none. */
  maxMisses?: number;
  missTtlMs?: number;
  /** Told of each entry the cache drops by itself (full, or expired); not of `delete`, `clear` or a `set` that replaces. */
  onEvict?: (key: K, value: V) => void;
}

export interface Lifetime {
  ttlMs?: number;
  /** When the TTL starts; now when not given. */
  since?: number;
}

interface Slot<T> {
  value: T;
  expiresAt: number;
  /** The segment's write count when this slot was last put at the end. */
  stamp: number;
}

/**
 * A least-recently-used map with expiry. A read moves its entry to the end only when the entry
 * is not among the newest half already: the hot path of a busy cache (the same few sessions read
 * again and again) is then one Map lookup, and an entry is still never evicted while it is read
 * at least once every `maxEntries / 2` writes.
 */
class Segment<K, T> {
  private readonly slots = new Map<K, Slot<T>>();
  private writes = 0;
  private readonly recentWrites: number;

  constructor(
    readonly maxEntries: number,
    private readonly onEvict: ((key: K, value: T) => void) | undefined,
  ) {
    this.recentWrites = Math.floor(maxEntries / 2);
  }

  get size(): number {
    return this.slots.size;
  }

  get(key: K, now: number): T | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= now) {
      this.slots.delete(key);
      this.onEvict?.(key, slot.value);
      return undefined;
    }
    if (this.writes - slot.stamp >= this.recentWrites) {
      this.slots.delete(key);
      this.slots.set(key, slot);
      slot.stamp = ++this.writes;
    }
    return slot.value;
  }

  set(key: K, value: T, expiresAt: number, now: number): void {
    if (this.maxEntries <= 0) return;
    // Deleting first puts a replaced key at the end, as a new one.
    this.slots.delete(key);
    this.slots.set(key, { value, expiresAt, stamp: ++this.writes });
    this.trimHead(now);
  }

  delete(key: K): T | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.slots.delete(key);
    return slot.value;
  }

  clear(): void {
    this.slots.clear();
  }

  keys(): IterableIterator<K> {
    return this.slots.keys();
  }

  /** Drops the oldest entry while over the bound, and an expired one or two at the head. */
  private trimHead(now: number): void {
    let expiredChecks = 2;
    for (const [key, slot] of this.slots) {
      const over = this.slots.size > this.maxEntries;
      if (!over && (expiredChecks-- === 0 || slot.expiresAt > now)) return;
      this.slots.delete(key);
      this.onEvict?.(key, slot.value);
    }
  }
}

/**
 * One cache for the whole server, bounded in entries and in time, so that no request from
 * outside can grow the process: a least-recently-used map whose entries expire by the injected
 * clock. Known misses ("there is no such app", `setMiss`) are kept apart from the entries, at most
 * `maxMisses` of them, each for `missTtlMs`: a flood of made-up names then never pushes out
 * what real clients use, and a name that comes into being is seen soon.
 *
 * No timers: an expired entry goes when it is read, or when it reaches the head of the map on a
 * write. Every operation is O(1), on a Map's insertion order.
 *
 * Why not lru-cache: it takes a clock (`perf`), but by default arms a timer on each reading of it
 * (`ttlResolution`), has no place of its own for misses, and does more on each `get` (options
 * object, staleness and fetch bookkeeping) than the hot path of an authenticated request should;
 * what Tessera needs is the few lines below.
 */
export class BoundedCache<K, V extends object> {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly missTtlMs: number;
  private readonly entries: Segment<K, V>;
  private readonly misses: Segment<K, true>;

  constructor(options: BoundedCacheOptions<K, V>) {
    this.clock = options.clock;
    this.ttlMs = options.ttlMs;
    this.missTtlMs = options.missTtlMs ?? 0;
    this.entries = new Segment(boundOf(options.maxEntries, 'maxEntries'), options.onEvict);
    this.misses = new Segment(boundOf(options.maxMisses ?? 0, 'maxMisses'), undefined);
  }

  /** Entries and known misses held now (expired ones not yet dropped included). */
  get size(): number {
    return this.entries.size + this.misses.size;
  }

  /** The value, while it is kept. */
  get(key: K, now: number = this.clock.now()): V | undefined {
    return this.entries.get(key, now);
  }

  /** Whether `key` was recently set as a miss (there is no such thing), and that is still kept. */
  isKnownMiss(key: K, now: number = this.clock.now()): boolean {
    return this.misses.size > 0 && this.misses.get(key, now) !== undefined;
  }

  /** Keeps `value` for the cache's TTL, or `ttlMs`, counted from `since` when given: a value read from the store is as old as the moment the read began. */
  set(key: K, value: V, { ttlMs = this.ttlMs, since }: Lifetime = {}): void {
    const now = this.clock.now();
    if (this.misses.size > 0) this.misses.delete(key);
    this.entries.set(key, value, (since ?? now) + ttlMs, now);
  }

  /** Remembers that `key` names nothing, for `missTtlMs` (or `ttlMs`) from `since` or now; kept apart from the entries. */
  setMiss(key: K, { ttlMs = this.missTtlMs, since }: Lifetime = {}): void {
    const now = this.clock.now();
    this.entries.delete(key);
    this.misses.set(key, true, (since ?? now) + ttlMs, now);
  }

  /** Forgets the key (entry or miss); returns the entry's value, if it held one. */
  delete(key: K): V | undefined {
    if (this.misses.size > 0) this.misses.delete(key);
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.misses.clear();
  }

  /** The keys of the entries (not of the misses), least recently used first. */
  keys(): IterableIterator<K> {
    return this.entries.keys();
  }
}

function boundOf(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`BoundedCache: ${name} must be a whole number ≥ 0, not ${value}`);
  return value;
}
