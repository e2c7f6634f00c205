import { describe, expect, it } from 'vitest';
import { BoundedCache, type BoundedCacheOptions } from '../../src/lib/bounded-cache.js';
import { ManualClock } from '../../src/lib/clock.js';

interface Value {
  n: number;
}

function cache(options: Partial<BoundedCacheOptions<string, Value>> = {}) {
  const clock = new ManualClock();
  const evicted: string[] = [];
  const subject = new BoundedCache<string, Value>({
    clock,
    maxEntries: 4,
    ttlMs: 10_000,
    onEvict: (key) => evicted.push(key),
    ...options,
  });
  return { clock, subject, evicted };
}

const value = (n: number): Value => ({ n });

describe('BoundedCache (issue 12)', () => {
  it('never holds more than maxEntries, however many keys are set', () => {
    const { subject } = cache({ maxEntries: 100 });
    for (let index = 0; index < 10_000; index += 1) subject.set(`key-${index}`, value(index));
    expect(subject.size).toBe(100);
    expect(subject.get('key-9999')).toEqual(value(9999));
    expect(subject.get('key-9899')).toBeUndefined();
    expect(subject.get('key-9900')).toEqual(value(9900));
  });

  it('evicts the least recently used first, and tells onEvict', () => {
    const { subject, evicted } = cache({ maxEntries: 4 });
    for (const key of ['a', 'b', 'c', 'd']) subject.set(key, value(0));
    // a is the oldest; reading it makes b the least recently used.
    expect(subject.get('a')).toBeDefined();
    subject.set('e', value(0));
    expect(evicted).toEqual(['b']);
    subject.set('f', value(0));
    expect(evicted).toEqual(['b', 'c']);
    expect([...subject.keys()].sort()).toEqual(['a', 'd', 'e', 'f']);
  });

  it('keeps an entry that is read at least once every maxEntries / 2 writes', () => {
    const { subject } = cache({ maxEntries: 100 });
    subject.set('hot', value(1));
    for (let index = 0; index < 5_000; index += 1) {
      subject.set(`cold-${index}`, value(index));
      if (index % 50 === 0) expect(subject.get('hot')).toEqual(value(1));
    }
    expect(subject.get('hot')).toEqual(value(1));
    expect(subject.size).toBe(100);
  });

  it('replacing a key keeps one entry, moved to the newest place', () => {
    const { subject, evicted } = cache({ maxEntries: 2 });
    subject.set('a', value(1));
    subject.set('b', value(1));
    subject.set('a', value(2));
    subject.set('c', value(1));
    expect(evicted).toEqual(['b']);
    expect(subject.get('a')).toEqual(value(2));
  });

  it('expires entries by the injected clock, from set or from `since`', () => {
    const { clock, subject, evicted } = cache({ ttlMs: 1000 });
    subject.set('a', value(1));
    subject.set('b', value(1), { ttlMs: 5000 });
    subject.set('c', value(1), { since: clock.now() - 600 });
    clock.advance(400);
    expect(subject.get('c')).toBeUndefined();
    clock.advance(599);
    expect(subject.get('a')).toEqual(value(1));
    clock.advance(1);
    expect(subject.get('a')).toBeUndefined();
    expect(subject.get('b')).toEqual(value(1));
    clock.advance(4000);
    expect(subject.get('b')).toBeUndefined();
    expect(evicted.sort()).toEqual(['a', 'b', 'c']);
    expect(subject.size).toBe(0);
  });

  it('drops expired entries at the head on a write, without being read', () => {
    const { clock, subject } = cache({ maxEntries: 100, ttlMs: 1000 });
    for (let index = 0; index < 50; index += 1) subject.set(`old-${index}`, value(index));
    clock.advance(1000);
    for (let index = 0; index < 50; index += 1) subject.set(`new-${index}`, value(index));
    expect(subject.size).toBe(50);
  });

  it('an infinite TTL never expires', () => {
    const { clock, subject } = cache({ ttlMs: Number.POSITIVE_INFINITY });
    subject.set('a', value(1));
    clock.advance(10 * 365 * 24 * 3600 * 1000);
    expect(subject.get('a')).toEqual(value(1));
  });

  describe('known misses', () => {
    it('are kept for missTtlMs, apart from the entries', () => {
      const { clock, subject } = cache({ ttlMs: 10_000, maxMisses: 10, missTtlMs: 1000 });
      subject.setMiss('ghost');
      expect(subject.isKnownMiss('ghost')).toBe(true);
      expect(subject.get('ghost')).toBeUndefined();
      clock.advance(999);
      expect(subject.isKnownMiss('ghost')).toBe(true);
      clock.advance(1);
      expect(subject.isKnownMiss('ghost')).toBe(false);
    });

    it('never push out entries, and are bounded by maxMisses', () => {
      const { subject, evicted } = cache({ maxEntries: 4, maxMisses: 10, missTtlMs: 1000 });
      for (const key of ['a', 'b', 'c', 'd']) subject.set(key, value(1));
      for (let index = 0; index < 10_000; index += 1) subject.setMiss(`made-up-${index}`);
      expect(evicted).toEqual([]);
      for (const key of ['a', 'b', 'c', 'd']) expect(subject.get(key)).toEqual(value(1));
      expect(subject.size).toBe(4 + 10);
      expect(subject.isKnownMiss('made-up-9999')).toBe(true);
      expect(subject.isKnownMiss('made-up-9989')).toBe(false);
    });

    it('a value replaces a miss and a miss replaces a value; delete forgets both', () => {
      const { subject } = cache({ maxMisses: 10, missTtlMs: 1000 });
      subject.setMiss('x');
      subject.set('x', value(1));
      expect(subject.isKnownMiss('x')).toBe(false);
      expect(subject.get('x')).toEqual(value(1));
      subject.setMiss('x');
      expect(subject.get('x')).toBeUndefined();
      expect(subject.isKnownMiss('x')).toBe(true);
      expect(subject.delete('x')).toBeUndefined();
      expect(subject.isKnownMiss('x')).toBe(false);
      subject.set('y', value(2));
      expect(subject.delete('y')).toEqual(value(2));
      expect(subject.get('y')).toBeUndefined();
    });

    it('are not kept at all when maxMisses is 0', () => {
      const { subject } = cache();
      subject.setMiss('x');
      expect(subject.isKnownMiss('x')).toBe(false);
      expect(subject.size).toBe(0);
    });
  });

  it('clear forgets everything; a bound that is not a whole number is refused', () => {
    const { subject } = cache({ maxMisses: 2, missTtlMs: 1000 });
    subject.set('a', value(1));
    subject.setMiss('b');
    subject.clear();
    expect(subject.size).toBe(0);
    expect(() => cache({ maxEntries: -1 })).toThrow(/maxEntries/);
    expect(() => cache({ maxMisses: 1.5 })).toThrow(/maxMisses/);
  });
});
