/** Claims of a verified external token (a trusted issuer's JWT, an OpenID provider's ID token). */
export type Claims = Record<string, unknown>;

/**
 * The value at a claim path. A claim whose own name is the whole path wins (namespaced claims
 * such as `https://example.com/roles` contain dots); otherwise the path walks nested objects
 * (Keycloak's `realm_access.roles`). Only own properties are read, so `__proto__` or
 * `constructor` find nothing.
 */
export function claimAt(claims: Claims, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let current: unknown = claims;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, segment))
      return undefined;
    current = (current as Claims)[segment];
  }
  return current;
}
