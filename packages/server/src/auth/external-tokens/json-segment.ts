/**
 * Whether a decoded JSON segment of a token is a bare object: its first byte `{` and its last
 * `}`. JSON.parse forgives leading whitespace, and UTF-8 decoders drop a byte-order mark; a
 * token whose header or claims carry either has two spellings of one meaning, so it is refused.
 */
export function isBareJsonObject(bytes: Uint8Array): boolean {
  return bytes[0] === 0x7b && bytes.at(-1) === 0x7d;
}
