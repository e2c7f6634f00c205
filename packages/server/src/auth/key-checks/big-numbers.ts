/** Unsigned big-endian integers as JWKs carry them (RFC 7518 §2, "Base64urlUInt"). */

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The bytes of a base64url field, or undefined when it is not strict, canonical base64url. */
export function base64urlBytes(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !BASE64URL.test(value) || value.length % 4 === 1) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.toString('base64url') === value ? bytes : undefined;
}

export function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

/** The number's real size: leading zero bytes (or bits) do not count. */
export function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}
