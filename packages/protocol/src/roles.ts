import Type from 'typebox';

/**
 * Roles, and the claims an access token copies from its user. A server of the app's own decides
 * from them what the user may do (Ably's capabilities, Centrifugo's channel claims, CometChat's
 * roles) without asking Tessera.
 */

/** The most roles a user has; with {@link ROLE_MAX_LENGTH}, a user's roles always fit in the token's claims. */
export const MAX_ROLES = 16;
export const ROLE_MAX_LENGTH = 48;

/** One role: 1 to 48 letters, digits, `_`, `.`, `:` and `-`, compared exactly (`Admin` is not `admin`). */
export const Role = Type.String({
  minLength: 1,
  maxLength: ROLE_MAX_LENGTH,
  pattern: '^[A-Za-z0-9_.:-]+$',
  description: 'A role: 1 to 48 letters, digits, "_", ".", ":" and "-", case-sensitive.',
});

/** A user's roles, set by the app's backend (secret key) or mapped from a trusted issuer's or OpenID provider's claim. */
export const Roles = Type.Array(Role, {
  maxItems: MAX_ROLES,
  uniqueItems: true,
  description: "The user's roles (at most 16, no repeats). Set with the secret key, or mapped from an external login.",
});

/**
 * The most bytes the user's claims (`roles`, `tags`, `customData`) take in an access token, as
 * JSON. Roles always fit; tags and each `customData` path are left out whole when they would not.
 */
export const ACCESS_TOKEN_USER_CLAIMS_MAX_BYTES = 1024;

/**
 * The claims an access token carries about its user, as the app's `accessTokenClaims` setting
 * chooses. `roles` follows RFC 9068 §2.2.3.1; `customData` holds the chosen paths of the user's
 * `customData` in their own nesting (`team.id` is `customData.team.id`).
 */
export interface UserTokenClaims {
  roles?: string[];
  tags?: string[];
  customData?: Record<string, unknown>;
}
