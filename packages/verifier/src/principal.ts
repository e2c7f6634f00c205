import type { AccessTokenClaims, UserKind } from '@tessera/protocol';

/**
 * The user behind a verified access token. Times are milliseconds since the epoch. `roles` is
 * empty when the app's `accessTokenClaims` leave roles out; `tags` and `customData` are there
 * only when the app puts them in its tokens. `kind` is the user's kind when the token was
 * issued; it is undefined only for tokens issued by a Tessera older than the `kind` claim.
 *
 * @example
 * ```ts
 * const principal = await verifier.verify(token);
 * if (!principal.roles.includes('moderator')) throw new Error('moderators only');
 * console.log(principal.userId, principal.sessionId, new Date(principal.expiresAt));
 * ```
 */
export interface Principal {
  /** The user's id (`sub`). */
  readonly userId: string;
  /** The session the token belongs to (`sid`): what a logout or a revocation ends. */
  readonly sessionId: string;
  /** `namespace/app` (`aud`). */
  readonly app: string;
  /** `registered`, `anonymous`, `guest` or `external` (`kind`); undefined for tokens that predate the claim. */
  readonly kind?: UserKind;
  readonly roles: readonly string[];
  readonly tags?: readonly string[];
  readonly customData?: Readonly<Record<string, unknown>>;
  /** When the token stops being valid (`exp`). */
  readonly expiresAt: number;
  /** When Tessera issued it (`iat`). */
  readonly issuedAt: number;
  /** Every claim of the token, as signed. */
  readonly claims: Readonly<AccessTokenClaims>;
}

/** The principal of claims whose signature and registered claims were checked. */
export function principalOf(claims: AccessTokenClaims): Principal {
  return Object.freeze({
    userId: claims.sub,
    sessionId: claims.sid,
    app: claims.aud,
    ...(claims.kind === undefined ? {} : { kind: claims.kind }),
    roles: Object.freeze([...(claims.roles ?? [])]),
    ...(claims.tags === undefined ? {} : { tags: Object.freeze([...claims.tags]) }),
    ...(claims.customData === undefined ? {} : { customData: claims.customData }),
    expiresAt: claims.exp * 1000,
    issuedAt: claims.iat * 1000,
    claims: Object.freeze({ ...claims }),
  });
}
