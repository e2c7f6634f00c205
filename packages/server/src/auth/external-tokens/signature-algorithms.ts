/**
 * The public-key JWS algorithms an external token (a trusted issuer's JWT, an OpenID provider's
 * ID token) may be signed with, exactly as spelled: `none`, `None` and `rs256` are never among them.
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
