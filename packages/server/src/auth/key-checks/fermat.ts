/**
 * Moduli whose two primes are too close to each other (Böck, 2022; CVE-2022-26320: keys made by
 * Rambus SafeZone, in Canon and Fujifilm printers among others). With p and q close, n is the
 * difference of two squares a² − b² where a is barely above √n, so Fermat's method factors it in
 * a few steps: try a = ⌈√n⌉, ⌈√n⌉ + 1, … and see whether a² − n is a square. Random primes are
 * never close enough to be found in the steps tried here.
 */

const STEPS = 100;

export function hasCloseFactors(modulus: bigint): boolean {
  let a = integerSquareRoot(modulus);
  if (a * a < modulus) a += 1n;
  for (let step = 0; step < STEPS; step += 1, a += 1n) {
    const difference = a * a - modulus;
    const b = integerSquareRoot(difference);
    if (b * b === difference) return true;
  }
  return false;
}

/** ⌊√value⌋, by Newton's method from a power of two above the root. */
function integerSquareRoot(value: bigint): bigint {
  if (value < 2n) return value;
  let x = 1n << BigInt(Math.ceil(value.toString(2).length / 2));
  for (;;) {
    const next = (x + value / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}
