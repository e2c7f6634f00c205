import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { publicKeyProblem } from '../../src/auth/key-checks/public-key.js';
import { hasRocaFingerprint } from '../../src/auth/key-checks/roca.js';
import { weakSecretProblem } from '../../src/auth/key-checks/shared-secret.js';
import {
  ED25519_IDENTITY_JWK,
  FAKE_ROCA_MODULUS,
  FERMAT_2048_PEM,
  forgeRs256WithExponentOne,
  goodRsaJwk,
  jwkOf,
  NOT_ROCA_CROCS_PEM,
  offCurveP256Jwk,
  paddedShortRsaJwk,
  ROCA_2048_PEM,
  ROCA_CROCS_PEM,
  rsaWithExponent,
} from '../helpers/weak-keys.js';

// Issue 12, items 1 and 3: the one module that judges every key Tessera verifies external tokens with.

const modulusOf = (pem: string) => BigInt(`0x${Buffer.from(jwkOf(pem).n as string, 'base64url').toString('hex')}`);

describe('public key checks (issue 12)', () => {
  it('accepts sound keys of every kind', () => {
    expect(publicKeyProblem(goodRsaJwk())).toBeUndefined();
    expect(publicKeyProblem(jwkOf(generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey))).toBeUndefined();
    for (const namedCurve of ['P-256', 'P-384', 'P-521'])
      expect(publicKeyProblem(jwkOf(generateKeyPairSync('ec', { namedCurve }).publicKey)), namedCurve).toBeUndefined();
    expect(publicKeyProblem(jwkOf(generateKeyPairSync('ed25519').publicKey))).toBeUndefined();
    expect(publicKeyProblem(jwkOf(NOT_ROCA_CROCS_PEM))).toBeUndefined();
  });

  it('refuses e = 1, which Node itself accepts and with which the padded hash verifies as a signature', () => {
    const jwk = rsaWithExponent(1);
    // The attack, shown with Node's own verify: no private key involved.
    const forged = Buffer.from(forgeRs256WithExponentOne('header.claims'), 'base64url');
    expect(verify('sha256', Buffer.from('header.claims'), createPublicKey({ key: jwk, format: 'jwk' }), forged)).toBe(
      true,
    );
    expect(publicKeyProblem(jwk)).toMatch(/exponent 1/);
    // An opt-in cannot let it through.
    expect(publicKeyProblem(jwk, { rsaExponents: [1] })).toMatch(/exponent 1/);
  });

  it('refuses other exponents than 65537 unless opted in, and even ones always', () => {
    expect(publicKeyProblem(rsaWithExponent(3))).toMatch(/exponent 3 is not 65537/);
    expect(publicKeyProblem(rsaWithExponent(3), { rsaExponents: [3] })).toBeUndefined();
    expect(publicKeyProblem(rsaWithExponent(5), { rsaExponents: [3] })).toMatch(/exponent 5/);
    for (const even of [2, 4, 65536])
      expect(publicKeyProblem(rsaWithExponent(even), { rsaExponents: [even] }), String(even)).toMatch(/even/);
    expect(publicKeyProblem({ ...goodRsaJwk(), e: 'AA' })).toMatch(/exponent 0/);
  });

  it('counts the modulus by its real size: short, and short padded with zero bytes', () => {
    expect(publicKeyProblem(jwkOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey))).toMatch(/1024 bits/);
    const padded = paddedShortRsaJwk();
    expect(Buffer.from(padded.n as string, 'base64url')).toHaveLength(256);
    expect(publicKeyProblem(padded)).toMatch(/1024 bits/);
    expect(publicKeyProblem({ ...goodRsaJwk(), n: 'AQAB' })).toMatch(/17 bits/);
  });

  it('refuses an even modulus or one with a small factor', () => {
    const n = modulusOf(NOT_ROCA_CROCS_PEM) * 3n;
    expect(
      publicKeyProblem({
        ...goodRsaJwk(),
        n: Buffer.from(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, '0'), 'hex').toString(
          'base64url',
        ),
      }),
    ).toMatch(/small factor/);
  });

  it('finds the ROCA fingerprint in published vulnerable moduli, and not in others', () => {
    expect(hasRocaFingerprint(modulusOf(ROCA_2048_PEM))).toBe(true);
    expect(hasRocaFingerprint(modulusOf(ROCA_CROCS_PEM))).toBe(true);
    expect(publicKeyProblem(jwkOf(ROCA_2048_PEM))).toMatch(/ROCA/);
    expect(publicKeyProblem(jwkOf(ROCA_CROCS_PEM))).toMatch(/ROCA/);
    expect(hasRocaFingerprint(modulusOf(NOT_ROCA_CROCS_PEM))).toBe(false);
    expect(hasRocaFingerprint(FAKE_ROCA_MODULUS)).toBe(false);
    for (let index = 0; index < 5; index += 1)
      expect(
        hasRocaFingerprint(
          modulusOf(
            generateKeyPairSync('rsa', { modulusLength: 2048 })
              .publicKey.export({ type: 'spki', format: 'pem' })
              .toString(),
          ),
        ),
      ).toBe(false);
  });

  it("refuses a modulus whose primes are close enough for Fermat's method (published vector), and not random ones", () => {
    expect(publicKeyProblem(jwkOf(FERMAT_2048_PEM))).toMatch(/Fermat/);
    expect(publicKeyProblem(goodRsaJwk())).toBeUndefined();
    expect(publicKeyProblem(jwkOf(NOT_ROCA_CROCS_PEM))).toBeUndefined();
  });

  it('refuses EC points off their curve, out of range or of the wrong length (Node refuses an off-curve JWK too)', () => {
    const offCurve = offCurveP256Jwk();
    expect(() => createPublicKey({ key: offCurve, format: 'jwk' })).toThrow();
    expect(publicKeyProblem(offCurve)).toMatch(/not on P-256/);
    const good = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const zero = Buffer.alloc(32).toString('base64url');
    expect(publicKeyProblem({ ...good, x: zero, y: zero })).toMatch(/not on P-256/);
    const p = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex').toString(
      'base64url',
    );
    expect(publicKeyProblem({ ...good, x: p })).toMatch(/not smaller than the field prime/);
    expect(
      publicKeyProblem({
        ...good,
        x: Buffer.concat([Buffer.alloc(1), Buffer.from(good.x as string, 'base64url')]).toString('base64url'),
      }),
    ).toMatch(/32 bytes/);
    expect(publicKeyProblem({ ...good, crv: 'secp256k1' })).toMatch(/unsupported curve/);
  });

  it('refuses Ed25519 keys of the wrong length, of small order, or not canonical', () => {
    // The identity key: Node verifies the all-but-empty signature for any message under it.
    const identity = createPublicKey({ key: ED25519_IDENTITY_JWK, format: 'jwk' });
    expect(
      verify(null, Buffer.from('any message'), identity, Buffer.concat([Buffer.from([1]), Buffer.alloc(63)])),
    ).toBe(true);
    expect(publicKeyProblem(ED25519_IDENTITY_JWK)).toMatch(/small order/);
    const good = jwkOf(generateKeyPairSync('ed25519').publicKey);
    const x = Buffer.from(good.x as string, 'base64url');
    expect(publicKeyProblem({ ...good, x: x.subarray(0, 31).toString('base64url') })).toMatch(/not 32 bytes/);
    expect(publicKeyProblem({ ...good, x: Buffer.concat([x, Buffer.alloc(1)]).toString('base64url') })).toMatch(
      /not 32 bytes/,
    );
    // y = p + 1 is a second spelling of y = 1.
    const nonCanonical = Buffer.from('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex');
    expect(publicKeyProblem({ ...good, x: nonCanonical.toString('base64url') })).toMatch(/canonical/);
    expect(publicKeyProblem({ ...good, crv: 'X25519' })).toMatch(/only Ed25519/);
  });

  it('refuses what is not a public signature key', () => {
    expect(publicKeyProblem({ kty: 'oct', k: 'AAAA' })).toMatch(/not a public signature key/);
    expect(publicKeyProblem({ n: goodRsaJwk().n, e: 'AQAB' })).toMatch(/not a public signature key/);
    expect(publicKeyProblem({ ...goodRsaJwk(), n: 'not base64url!' })).toMatch(/not base64url/);
  });
});

describe('shared secret checks (issue 12)', () => {
  const check = (text: string, bytes: Uint8Array = Buffer.from(text)) => weakSecretProblem(text, bytes);

  it('refuses long secrets that are weak, and says how to make one', () => {
    const weak: [string, RegExp][] = [
      ['a'.repeat(64), /one character repeated/],
      ['ab'.repeat(32), /pattern of 2 characters/],
      ['passwordpasswordpasswordpassword', /pattern of 8 characters/],
      ['Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3xyz', /pattern of 11 characters/],
      ['abcdefghijklmnopqrstuvwxyz0123456789', /consecutive/],
      ['0101101001011010010110100101101001011010', /distinct|pattern/],
      [
        '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuifwOO3sz3yHUO4Kg67\n-----END PUBLIC KEY-----',
        /PEM/,
      ],
      [JSON.stringify(goodRsaJwk()), /JWK/],
      [JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }), /JWK/],
      ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host', /SSH/],
    ];
    for (const [secret, why] of weak) {
      const problem = check(secret);
      expect(problem, secret).toMatch(why);
      expect(problem).toContain('openssl rand -base64 32');
    }
  });

  it('judges the bytes a hex or base64 text spells, and the bytes the HMAC uses', () => {
    // Text with many symbols whose bytes are one value repeated.
    expect(check(Buffer.alloc(32, 0x41).toString('base64'))).toMatch(/pattern|repeated/);
    expect(check(Buffer.from('passwordpasswordpasswordpassword').toString('hex'))).toMatch(/pattern/);
    expect(check('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', Buffer.alloc(32))).toMatch(/repeated|pattern/);
  });

  it('accepts what openssl rand makes, and ordinary long passphrases', () => {
    for (let index = 0; index < 200; index += 1) {
      for (const secret of [
        randomBytes(16).toString('hex'),
        randomBytes(32).toString('hex'),
        randomBytes(24).toString('base64'),
        randomBytes(32).toString('base64url'),
      ])
        expect(check(secret), secret).toBeUndefined();
      const raw = randomBytes(32);
      expect(check(raw.toString('base64'), raw)).toBeUndefined();
    }
    expect(check('correct horse battery staple, and a comet')).toBeUndefined();
  });
});
