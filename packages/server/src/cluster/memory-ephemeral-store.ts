import type { Clock } from '../lib/clock.js';
import type { EphemeralStore } from './ephemeral-store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/** How many writes between sweeps of expired entries, so memory stays bounded by live keys. */
const SWEEP_EVERY_WRITES = 1000;

/** The single-node adapter: a map read against the injected clock. State is lost on restart. */
export class MemoryEphemeralStore implements EphemeralStore {
  private readonly entries = new Map<string, Entry>();
  private writes = 0;

  constructor(private readonly clock: Clock) {}

  async setEx(key: string, value: string, ttlMs: number): Promise<void> {
    this.write(key, { value, expiresAt: this.clock.now() + ttlMs });
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.live(key);
    this.entries.delete(key);
    return entry?.value;
  }

  async incrWithTtl(key: string, ttlMs: number): Promise<number> {
    const entry = this.live(key);
    const count = entry === undefined ? 1 : Number(entry.value) + 1;
    this.write(key, { value: String(count), expiresAt: entry?.expiresAt ?? this.clock.now() + ttlMs });
    return count;
  }

  async ttl(key: string): Promise<number | undefined> {
    const entry = this.live(key);
    return entry && entry.expiresAt - this.clock.now();
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt > this.clock.now()) return entry;
    this.entries.delete(key);
    return undefined;
  }

  private write(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    if (++this.writes % SWEEP_EVERY_WRITES === 0) this.sweep();
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
