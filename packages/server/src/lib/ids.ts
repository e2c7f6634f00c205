import { randomBytes } from 'node:crypto';

let lastMilliseconds = -1;
let sequence = 0;

/** Random bytes drawn in batches: one call into the CSPRNG per 256 ids instead of two per id. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomSlice(length: number): Buffer {
  if (poolOffset + length > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  // A copy: the id's bytes are written over, and the pool must not keep them.
  const slice = Buffer.from(pool.subarray(poolOffset, poolOffset + length));
  poolOffset += length;
  return slice;
}

/**
 * A UUID version 7 (RFC 9562): time-ordered, so rows inserted later sort later and keyset
 * pagination by id follows creation order. Within one millisecond (or when the clock stands
 * still, as in tests) the 12-bit `rand_a` field is a counter (RFC 9562 §6.2, method 1), so ids
 * made by this process are strictly increasing.
 */
export function uuidv7(now: number = Date.now()): string {
  let milliseconds = Math.max(now, lastMilliseconds);
  if (milliseconds === lastMilliseconds) {
    sequence += 1;
    if (sequence > 0xfff) {
      milliseconds += 1;
      sequence = 0;
    }
  } else {
    sequence = randomSlice(2).readUInt16BE() & 0x7ff; // leave headroom for the counter
  }
  lastMilliseconds = milliseconds;
  const bytes = randomSlice(16);
  bytes.writeUIntBE(milliseconds, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
