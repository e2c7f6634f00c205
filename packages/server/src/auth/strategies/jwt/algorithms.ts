import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from '../../external-tokens/signature-algorithms.js';

export { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm };

/** The signature algorithms a trusted issuer may use, and what each one needs of a key. */

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type Algorithm = HmacAlgorithm | AsymmetricAlgorithm;

const ALL: ReadonlySet<string> = new Set<string>([...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS]);

/** Exact, case-sensitive: `none`, `None`, `hs256` are all refused. */
export function isSupportedAlgorithm(alg: unknown): alg is Algorithm {
  return typeof alg === 'string' && ALL.has(alg);
}

export function isHmac(alg: Algorithm): alg is HmacAlgorithm {
  return (HMAC_ALGORITHMS as readonly string[]).includes(alg);
}

/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output. */
export function minimumSecretBytes(alg: HmacAlgorithm): number {
  return { HS256: 32, HS384: 48, HS512: 64 }[alg];
}

const CURVES: Partial<Record<AsymmetricAlgorithm, string>> = {
  ES256: 'P-256',
  ES384: 'P-384',
  ES512: 'P-521',
  EdDSA: 'Ed25519',
};

/**
 * Why a public JWK does not fit `alg`, or undefined when it does. Checked at configuration
 * time for keys given in settings and at fetch time for JWKS keys, so that an EC key is never
 * tried for RS256, nor a P-384 key for ES256, nor a symmetric or private key anywhere.
 */
export function keyMismatch(jwk: Record<string, unknown>, alg: AsymmetricAlgorithm): string | undefined {
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) return 'is private or symmetric key material; give only the public key';
  if (jwk.alg !== undefined && jwk.alg !== alg) return `is marked for ${JSON.stringify(jwk.alg)}, not ${alg}`;
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'is not a signature key (use is not "sig")';
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    return 'does not allow "verify" in key_ops';
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    // Size, exponent and known weaknesses are the key checks' (auth/key-checks), not a matter of fit.
    return jwk.kty === 'RSA' && typeof jwk.n === 'string' ? undefined : `is not an RSA key, which ${alg} needs`;
  }
  const curve = CURVES[alg];
  const kty = alg === 'EdDSA' ? 'OKP' : 'EC';
  if (jwk.kty !== kty || jwk.crv !== curve) return `is not an ${kty} key on ${curve ?? '?'}, which ${alg} needs`;
  return undefined;
}
