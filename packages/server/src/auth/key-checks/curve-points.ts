import { base64urlBytes, toBigInt } from './big-numbers.js';

/**
 * Public points of elliptic-curve keys. A point off its curve, or of small order, lets a
 * signature verify that the key's owner never made (invalid-curve attacks; for Ed25519 the
 * identity point verifies the "signature" R = identity, S = 0 for every message in Node 20).
 */

interface WeierstrassCurve {
  /** Bytes of a coordinate (RFC 7518 §6.2.1.2: exactly this many). */
  size: number;
  p: bigint;
  /** y² = x³ − 3x + b (mod p): the NIST curves all have a = −3. */
  b: bigint;
}

const NIST_CURVES: Record<string, WeierstrassCurve> = {
  'P-256': {
    size: 32,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  'P-384': {
    size: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  'P-521': {
    size: 66,
    p: 2n ** 521n - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

/** Why an EC public key (`crv`, `x`, `y`) is not a point of its curve, or undefined when it is. */
export function ecPointProblem(crv: unknown, x: unknown, y: unknown): string | undefined {
  const curve = typeof crv === 'string' ? NIST_CURVES[crv] : undefined;
  if (curve === undefined) return `EC key on an unsupported curve (${String(crv).slice(0, 20)})`;
  const xBytes = base64urlBytes(x);
  const yBytes = base64urlBytes(y);
  if (xBytes?.length !== curve.size || yBytes?.length !== curve.size)
    return `EC key whose x and y are not ${curve.size} bytes each, as ${String(crv)} needs`;
  const [px, py] = [toBigInt(xBytes), toBigInt(yBytes)];
  const { p, b } = curve;
  if (px >= p || py >= p) return 'EC key whose coordinates are not smaller than the field prime';
  // The point at infinity has no affine coordinates; (0, 0) and every other off-curve pair fail here.
  if ((py * py - (px * px * px - 3n * px + b)) % p !== 0n) return `EC key whose point is not on ${String(crv)}`;
  return undefined;
}

const ED25519_P = 2n ** 255n - 19n;

/**
 * The encodings of the eight points of small order (1, 2, 4, 8) of edwards25519, and the two
 * encodings of x = 0 with the sign bit set (invalid, RFC 8032 §5.1.3): libsodium refuses them all.
 */
const ED25519_SMALL_ORDER = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
]);

/** Why an OKP public key (`crv`, `x`) cannot verify signatures, or undefined when it can. */
export function okpKeyProblem(crv: unknown, x: unknown): string | undefined {
  if (crv !== 'Ed25519') return `OKP key on ${String(crv).slice(0, 20)}; only Ed25519 verifies EdDSA tokens here`;
  const bytes = base64urlBytes(x);
  if (bytes?.length !== 32) return 'Ed25519 key whose x is not 32 bytes';
  if (ED25519_SMALL_ORDER.has(bytes.toString('hex')))
    return 'Ed25519 key of small order, with which forged signatures verify';
  // y is the encoding without its sign bit (RFC 8032 §5.1.3); y ≥ p is a second spelling of a smaller y.
  const y = toBigInt(Buffer.from(bytes).reverse()) & (2n ** 255n - 1n);
  if (y >= ED25519_P) return 'Ed25519 key that is not canonically encoded';
  return undefined;
}
