import { describe, expect, it } from 'vitest';
import { isBareJsonObject } from '../../src/auth/external-tokens/json-segment.js';
import { ExternalTokenRefused } from '../../src/auth/external-tokens/refusal.js';
import { assertTimeClaims, MAX_NUMERIC_DATE } from '../../src/auth/external-tokens/time-claims.js';

// Issue 12, item 2: the checks shared by trusted-issuer JWTs and OpenID ID tokens.

const reasonOf = (claims: Record<string, unknown>, maxTokenLifetime?: number): string | undefined => {
  try {
    assertTimeClaims(claims, { maxTokenLifetime });
    return undefined;
  } catch (error) {
    if (error instanceof ExternalTokenRefused) return `${error.reason}:${error.facts.claim ?? ''}`;
    throw error;
  }
};

describe('time claims (issue 12)', () => {
  it('accepts finite NumericDates from 1970 to 9999, fractions included, and absent claims', () => {
    expect(reasonOf({})).toBeUndefined();
    expect(reasonOf({ exp: 1_800_000_000.5, nbf: 0, iat: MAX_NUMERIC_DATE })).toBeUndefined();
  });

  it.each([
    ['exp', Number.POSITIVE_INFINITY],
    ['nbf', Number.NEGATIVE_INFINITY],
    ['iat', Number.NaN],
    ['exp', -1],
    ['exp', MAX_NUMERIC_DATE + 1],
    ['iat', 1e300],
    ['exp', '1800000000'],
    ['nbf', null],
    ['iat', true],
    ['exp', [1_800_000_000]],
    ['exp', { valueOf: 1 }],
  ])('refuses %s = %s', (claim, value) => {
    expect(reasonOf({ [claim]: value })).toBe(`bad_time_claim:${claim}`);
  });

  it('keeps exp − iat within maxTokenLifetime, and then needs both', () => {
    expect(reasonOf({ iat: 1000, exp: 4600 }, 3600)).toBeUndefined();
    expect(reasonOf({ iat: 1000, exp: 4601 }, 3600)).toBe('lifetime_too_long:exp');
    expect(reasonOf({ exp: 4600 }, 3600)).toBe('missing_claim:iat');
    expect(reasonOf({ iat: 1000 }, 3600)).toBe('missing_claim:exp');
    expect(reasonOf({ exp: 4600 })).toBeUndefined();
  });
});

describe('bare JSON segments (issue 12)', () => {
  it('takes only bytes that open with { and close with }', () => {
    expect(isBareJsonObject(Buffer.from('{"alg":"HS256"}'))).toBe(true);
    for (const text of ['\ufeff{"alg":"HS256"}', ' {"alg":"HS256"}', '{"alg":"HS256"}\n', '\t{}', '[]', '"x"', '']) {
      expect(isBareJsonObject(Buffer.from(text)), JSON.stringify(text)).toBe(false);
    }
  });
});
