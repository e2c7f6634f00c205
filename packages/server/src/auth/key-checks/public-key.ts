import { ecPointProblem, okpKeyProblem } from './curve-points.js';
import { rsaKeyProblem } from './rsa-key.js';

/**
 * The one check every public key Tessera verifies external tokens with passes before use:
 * trusted issuers' keys in app settings (JWK or PEM), keys fetched from their JWKS URLs, and
 * OpenID providers' key sets. A key refused here is never imported.
 */

export interface PublicKeyPolicy {
  /** RSA public exponents accepted besides 65537: an operator's explicit opt-in. */
  rsaExponents?: readonly number[];
}

/** Why the public JWK cannot be trusted to verify signatures, or undefined when it can. */
export function publicKeyProblem(
  jwk: Readonly<Record<string, unknown>>,
  policy: PublicKeyPolicy = {},
): string | undefined {
  switch (jwk.kty) {
    case 'RSA':
      return rsaKeyProblem(jwk.n, jwk.e, policy.rsaExponents);
    case 'EC':
      return ecPointProblem(jwk.crv, jwk.x, jwk.y);
    case 'OKP':
      return okpKeyProblem(jwk.crv, jwk.x);
    default:
      return `key of type ${JSON.stringify(String(jwk.kty).slice(0, 20))}, which is not a public signature key (RSA, EC or OKP)`;
  }
}
