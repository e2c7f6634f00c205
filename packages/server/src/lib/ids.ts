import { randomBytes } from 'node:crypto';

let lastMilliseconds = -1;
let sequence = 0;

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
    sequence = randomBytes(2).readUInt16BE() & 0x7ff; // leave headroom for the counter
  }
  lastMilliseconds = milliseconds;
  const bytes = randomBytes(16);
  bytes.writeUIntBE(milliseconds, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
