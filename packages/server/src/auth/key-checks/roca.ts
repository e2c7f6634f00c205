/**
 * The ROCA fingerprint (Nemec, Sys, Svenda, Klinec, Matyas: "The Return of Coppersmith's Attack:
 * Practical Factorization of Widely Used RSA Moduli", ACM CCS 2017; CVE-2017-15361). Infineon's
 * library made primes of the form k·M + (65537^a mod M), with M a primorial, so a modulus N made
 * of two such primes is a power of 65537 modulo every small prime of M — and such moduli can be
 * factored. The test is the paper's discrete-logarithm one: N is fingerprinted when there is a
 * single exponent a with 65537^a ≡ N modulo every prime up to 167 (M = 167#). Per prime, the
 * exponent exists only for some residues; one exponent exists for all primes exactly when the
 * per-prime exponents agree modulo the gcd of each pair of orders (the generalised Chinese
 * remainder theorem). A random modulus passes with a probability far below 2^-100.
 */

const GENERATOR = 65537;
const PRIMES = [
  2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109,
  113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

interface PrimeTable {
  prime: number;
  /** The multiplicative order of 65537 modulo `prime`. */
  order: number;
  /** residue → its discrete logarithm to base 65537, for the residues that have one. */
  logarithms: Map<number, number>;
}

const TABLES: readonly PrimeTable[] = PRIMES.map((prime) => {
  const logarithms = new Map<number, number>();
  const base = GENERATOR % prime;
  let power = 1 % prime;
  for (let exponent = 0; !logarithms.has(power); exponent += 1) {
    logarithms.set(power, exponent);
    power = (power * base) % prime;
  }
  return { prime, order: logarithms.size, logarithms };
});

export function hasRocaFingerprint(modulus: bigint): boolean {
  const exponents: { order: number; exponent: number }[] = [];
  for (const { prime, order, logarithms } of TABLES) {
    const exponent = logarithms.get(Number(modulus % BigInt(prime)));
    if (exponent === undefined) return false;
    exponents.push({ order, exponent });
  }
  return exponents.every((first, index) =>
    exponents
      .slice(index + 1)
      .every((second) => (first.exponent - second.exponent) % gcd(first.order, second.order) === 0),
  );
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
