import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * Public keys that must never verify a token, for the tests of the key checks (issue 12,
 * item 1). The ROCA moduli are published test vectors of real vulnerable keys; everything else
 * is made here from a fresh key.
 */

/** badkeys (github.com/badkeys/badkeys, tests/data/rsa-roca.key): a 2048-bit ROCA-vulnerable key, PKCS#1. */
export const ROCA_2048_PEM = `-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAkTKtIR/MDftNrkgyashkwifks5Swm9HEkw4ZcCijyQdpTStInk9p
dUrq4zjG6tk5xX9AaYXLu47fmiBVzClGvAXTZbpn6JbG1IERUs+i0pBRT5CzUu7v
J/63L72NzVvJFaT0SUE5zByhCjJE+pflMnX1e1UptOdnN5AHeY4RKkugVse3XO2x
Ms3yH3vTyZdtnaOIFRU0d6E7PrsgRtEAqFHcAGmPUw0ZOW8A++8sS/FlnrxMf9lV
a1/8k/A8otPfrNIipfAoq0MKJ+oxE2wML1DDxIGTGmNaN3gPANJyeuca7ptA+NGq
5oU1x3pWMXgSvrVSXUooNk8xIkrKxSz3LQIDAQAB
-----END RSA PUBLIC KEY-----
`;

/** The ROCA authors' detector tests (github.com/crocs-muni/roca, roca/tests/data/pubkey03.pem): positive. */
export const ROCA_CROCS_PEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEBqcWmh9uPsqMPgt/43aFU
wpHvJ7BLJeGFuKsgxMal9gSFn+We3lSgr3wOcoiACtcZO7cxpb8eEXDXocZpMNQe
o+sh3t97ivXUKpHDT3IEW5bv1XyxgjAd3MJpZ+VQjpq4iZhtV+g33+cPmfw3xJj0
PBfDubBkz3BEQ9egM+A6ghaXqr8w+ynufTOzdnllqJBY47OXVL06HAB9KKI7DPp5
+dcRrG5MS093sGNLHs1oWRrwPH1TtipfLZEWPU70+PJoMa5GHthexfeIxRI//BLI
dCD9z+odG0pSw1IYJPs5mDSHObYqmG2OdrIom8Lri8BtE4FHhRuDoHGD0hBVn5Bj
IQIDAQAB
-----END PUBLIC KEY-----
`;

/** The same detector tests (pubkey01.pem): a key without the fingerprint. */
export const NOT_ROCA_CROCS_PEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuifwOO3sz3yHUO4Kg67/
ovYtMvzj6X8lf25wimtdIjoAkq/hxe44vaNkNxsCtTi+oVmw0ZGUwxpU4P5q64Ll
A6gxwF5cYj7L7G3FXjm0ICduZkp/jicOGU/I5kYjnyjjPgt9aozfVVfC3bqJ3WYN
Xw4oxb11HemqvRvQcC+4PY13JMsvkz/sXUFFSjcILQuGONNuAoTtlfJ81SsmlSpQ
lHfsefYk/SDoZQSagP0b5dAU6QikK0CjuP//Y7+ihtzZBKisWjia84H2U35U7cjb
KYw2AzLlytjUr0fB/7aeuk4eRmqMVQwCYDtvUpdQlJtM3YrbRw0wUvMEtxXgc0CG
VQIDAQAB
-----END PUBLIC KEY-----
`;

/** badkeys (tests/data/rsa-fermat-pkcs8.key): a 2048-bit key whose primes are close (CVE-2022-26320). */
export const FERMAT_2048_PEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAkGbTtoSrOJmrwu9FV3A3
xDfxNn3EnSO94M9+QIL3qJjjIMh30xrAdra5ZsXjhJrRApI0X+qArvTQVv6/n9Yq
EoAPmF7n46yJ1TtYETFzGCjqk1sDZ8rVEnq4bxPHk0EQcFiQIn6iwTPOjeidD2WK
UNIVeJWI/2X8Ms3ITdt+P4jV0DVeA6rdR31ClG+HGos1OdTA+8nMwDId0jA/Kv8M
OPFBLf24p9OB8fzXP2Uno0CSSrZLktJCouOcPzGgBB5sZZFHxpsrf76uJNULBrjC
9Pbxx3ogpGVy1L5CC9v8qk3L44qQpi4g/PC9wWNsK+NPr/tiq4+S3uB369Ye1n+0
ywIDAQAB
-----END PUBLIC KEY-----
`;

/**
 * The same detector tests (test_fake_mods): a modulus that is a power of 65537 modulo each small
 * prime on its own, but not modulo their product — positive for the older per-prime test, and
 * rightly negative for the discrete-logarithm one.
 */
export const FAKE_ROCA_MODULUS =
  72414128973967872688332736535017614208620368242015797102796086827882754006260204061799547004983731426777596445658889886861027045033760014948048067467947960318205453778973975867532910489227970143091184725760290172935872752222320334100097730483600892686353719855397381316384244147860260153198611313067061116317n;

export type Jwk = Record<string, unknown>;

/** The public JWK of a key object or a PEM. */
export const jwkOf = (key: KeyObject | string): Jwk => ({
  ...(typeof key === 'string' ? createPublicKey(key) : key).export({ format: 'jwk' }),
});

const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** A sound 2048-bit RSA key, the base of the broken ones below. */
export const goodRsaJwk = (): Jwk => jwkOf(rsa2048.publicKey);

/** `goodRsaJwk` with another public exponent (base64url of its big-endian bytes). */
export const rsaWithExponent = (exponent: number): Jwk => ({
  ...goodRsaJwk(),
  e: bigEndian(BigInt(exponent)).toString('base64url'),
});

/** A 1024-bit modulus written on 256 bytes: leading zeros make it look like 2048 bits. */
export function paddedShortRsaJwk(): Jwk {
  const short = jwkOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
  const n = Buffer.from(short.n as string, 'base64url');
  return { ...short, n: Buffer.concat([Buffer.alloc(256 - n.length), n]).toString('base64url') };
}

/** A P-256 public key moved off its curve (y changed by one bit). */
export function offCurveP256Jwk(): Jwk {
  const jwk = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  const y = Buffer.from(jwk.y as string, 'base64url');
  y[31] = (y[31] ?? 0) ^ 1;
  return { ...jwk, y: y.toString('base64url') };
}

/** The identity point of edwards25519: Node verifies R = identity, S = 0 under it for every message. */
export const ED25519_IDENTITY_JWK: Jwk = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]).toString('base64url'),
};

/**
 * An RS256 "signature" that verifies under any RSA key with e = 1 and modulus bytes `size`: the
 * PKCS #1 v1.5 encoding of the hash itself (RFC 8017 §9.2), since s^1 mod n = s.
 */
export function forgeRs256WithExponentOne(signingInput: string, size = 256): string {
  const digestInfo = Buffer.from('3031300d060960864801650304020105000420', 'hex');
  const hash = createHash('sha256').update(signingInput).digest();
  const padding = Buffer.alloc(size - 3 - digestInfo.length - hash.length, 0xff);
  return Buffer.concat([Buffer.from([0, 1]), padding, Buffer.from([0]), digestInfo, hash]).toString('base64url');
}

function bigEndian(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}
