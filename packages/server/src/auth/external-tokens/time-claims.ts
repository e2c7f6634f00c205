import { ExternalTokenRefused } from './refusal.js';

/**
 * `exp`, `nbf` and `iat` of an external token, checked before anything trusts them. JSON gives
 * 1e400 as Infinity, which every comparison treats as "later than now": an `exp` of 1e400 is a
 * token that never expires, and jose, whose type check it passes, would accept it. A time claim
 * must be a finite number of seconds from 1970 up to the last second of year 9999 (RFC 3339's
 * range), fractions allowed (RFC 7519 §2, NumericDate).
 */

const TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const;
/** 9999-12-31T23:59:59Z. */
export const MAX_NUMERIC_DATE = 253_402_300_799;

export interface TimeClaimRules {
  /** When set, exp − iat may not exceed it, and a token without iat or exp is refused. Seconds. */
  maxTokenLifetime?: number | undefined;
}

/** Throws `ExternalTokenRefused` for the first time claim out of range, or a lifetime over the limit. */
export function assertTimeClaims(
  claims: Readonly<Record<string, unknown>>,
  { maxTokenLifetime }: TimeClaimRules = {},
): void {
  for (const claim of TIME_CLAIMS) {
    const value = claims[claim];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_NUMERIC_DATE) {
      throw new ExternalTokenRefused(
        'bad_time_claim',
        `its ${claim} is not a number of seconds between 1970 and 9999`,
        { claim },
      );
    }
  }
  if (maxTokenLifetime === undefined) return;
  const { exp, iat } = claims;
  if (typeof exp !== 'number' || typeof iat !== 'number') {
    throw new ExternalTokenRefused(
      'missing_claim',
      `the issuer's maxTokenLifetime needs both iat and exp, and the token lacks ${typeof iat === 'number' ? 'exp' : 'iat'}`,
      { claim: typeof iat === 'number' ? 'exp' : 'iat' },
    );
  }
  if (exp - iat > maxTokenLifetime) {
    throw new ExternalTokenRefused(
      'lifetime_too_long',
      `it lives ${exp - iat} seconds (exp − iat), longer than the issuer's maxTokenLifetime of ${maxTokenLifetime}`,
      { claim: 'exp' },
    );
  }
}
