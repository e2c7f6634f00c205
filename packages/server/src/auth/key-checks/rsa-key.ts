import { base64urlBytes, bitLength, toBigInt } from './big-numbers.js';
import { hasCloseFactors } from './fermat.js';
import { hasRocaFingerprint } from './roca.js';

/** Smallest RSA modulus accepted, in bits (RFC 7518 §3.3; NIST SP 800-131A). */
export const MIN_RSA_BITS = 2048;
/** Larger moduli are not in use and only make each verification slower. */
const MAX_RSA_BITS = 16_384;
/** The exponent every mainstream library generates (NIST SP 800-56B asks 65537 ≤ e < 2^256). */
const STANDARD_EXPONENT = 65537n;
/** Small primes tried as factors: a modulus that has one is not a product of two large primes. */
const SMALL_PRIMES = [
  3n,
  5n,
  7n,
  11n,
  13n,
  17n,
  19n,
  23n,
  29n,
  31n,
  37n,
  41n,
  43n,
  47n,
  53n,
  59n,
  61n,
  67n,
  71n,
  73n,
  79n,
  83n,
  89n,
  97n,
];

/**
 * Why an RSA public key (as JWK members `n`, `e`) cannot be trusted to verify signatures, or
 * undefined when it can. `allowedExponents` holds the exponents besides 65537 an operator has
 * opted in to; 1 and even exponents are never accepted: with e = 1 a "signature" is just the
 * padded hash, which anyone can write.
 */
export function rsaKeyProblem(n: unknown, e: unknown, allowedExponents: readonly number[] = []): string | undefined {
  const modulusBytes = base64urlBytes(n);
  const exponentBytes = base64urlBytes(e);
  if (modulusBytes === undefined || exponentBytes === undefined) return 'RSA key whose n or e is not base64url';
  const modulus = toBigInt(modulusBytes);
  const exponent = toBigInt(exponentBytes);
  const bits = bitLength(modulus);
  if (bits < MIN_RSA_BITS)
    return `RSA modulus of ${bits} bits (leading zero bytes do not count); at least ${MIN_RSA_BITS} are needed`;
  if (bits > MAX_RSA_BITS) return `RSA modulus of ${bits} bits; at most ${MAX_RSA_BITS} are accepted`;
  const exponentProblem = rsaExponentProblem(exponent, modulus, allowedExponents);
  if (exponentProblem !== undefined) return exponentProblem;
  if (SMALL_PRIMES.some((prime) => modulus % prime === 0n) || modulus % 2n === 0n)
    return 'RSA modulus with a small factor, which is not a product of two large primes';
  if (hasRocaFingerprint(modulus))
    return 'RSA modulus with the ROCA fingerprint (CVE-2017-15361: made by a vulnerable Infineon library, and it can be factored); make a new key';
  if (hasCloseFactors(modulus))
    return "RSA modulus whose two primes are so close that Fermat's method factors it (CVE-2022-26320); make a new key";
  return undefined;
}

function rsaExponentProblem(
  exponent: bigint,
  modulus: bigint,
  allowedExponents: readonly number[],
): string | undefined {
  if (exponent === STANDARD_EXPONENT) return undefined;
  if (exponent === 1n)
    return 'RSA public exponent 1: the padded hash itself verifies as the signature, so anyone can sign';
  if (exponent % 2n === 0n) return `RSA public exponent ${exponent} is even, which is not an RSA key`;
  if (exponent >= modulus) return 'RSA public exponent is not smaller than the modulus';
  if (allowedExponents.some((allowed) => BigInt(allowed) === exponent)) return undefined;
  return `RSA public exponent ${exponent.toString().slice(0, 40)} is not 65537; another is accepted only by an opt-in (rsaExponent on a key, jwks.rsaExponents for a key set)`;
}
