import { ACCESS_TOKEN_USER_CLAIMS_MAX_BYTES, MAX_ROLES, ROLE_MAX_LENGTH } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import { parseAppSettings } from '../../src/apps/settings.js';
import { computeUserClaims } from '../../src/auth/tokens/token-claims.js';

// Issue 14, item 5: the claims an access token carries about its user, computed in one place.

const settingsOf = (accessTokenClaims: Record<string, unknown>) =>
  parseAppSettings({ accessTokenClaims }).accessTokenClaims;
const user = (fields: { roles?: string[]; tags?: string[]; customData?: Record<string, unknown> | null } = {}) => ({
  roles: [],
  tags: [],
  customData: null,
  ...fields,
});
const sizeOf = (claims: unknown) => Buffer.byteLength(JSON.stringify(claims));

describe('computeUserClaims (issue 14)', () => {
  it('carries roles by default, an empty list included, and nothing else', () => {
    expect(computeUserClaims(settingsOf({}), user())).toEqual({ claims: { roles: [] }, omitted: [] });
    expect(computeUserClaims(settingsOf({}), user({ roles: ['admin'], tags: ['x'] })).claims).toEqual({
      roles: ['admin'],
    });
    expect(computeUserClaims(settingsOf({ roles: false }), user({ roles: ['admin'] })).claims).toEqual({});
  });

  it('copies the chosen customData paths in their own nesting, and leaves out paths the user has no value at', () => {
    const settings = settingsOf({ roles: false, tags: true, customData: ['plan', 'team.id', 'missing.path', 'zero'] });
    const data = { plan: 'pro', team: { id: 't1', name: 'Blue' }, notes: 'private', zero: 0, missing: 'not an object' };
    expect(computeUserClaims(settings, user({ tags: ['a'], customData: data }))).toEqual({
      claims: { tags: ['a'], customData: { plan: 'pro', team: { id: 't1' }, zero: 0 } },
      omitted: [],
    });
    expect(computeUserClaims(settings, user()).claims).toEqual({ tags: [], customData: {} });
  });

  it('reads own properties only', () => {
    const settings = settingsOf({ customData: ['toString', 'a.length'] });
    expect(computeUserClaims(settings, user({ customData: { a: 'text' } })).claims.customData).toEqual({});
  });

  it('keeps the claims within 1 KiB: roles always, then tags, then each path in order, each whole', () => {
    const settings = settingsOf({ tags: true, customData: ['bio', 'plan', 'team.id'] });
    const roles = Array.from({ length: MAX_ROLES }, (_, index) => `${index}`.padEnd(ROLE_MAX_LENGTH, 'r'));
    const tags = Array.from({ length: 50 }, (_, index) => `tag-${index}`.padEnd(64, 't'));
    const data = { bio: 'b'.repeat(5000), plan: 'pro', team: { id: 't'.repeat(300) } };
    const { claims, omitted } = computeUserClaims(settings, user({ roles, tags, customData: data }));
    expect(claims.roles).toEqual(roles);
    expect(claims.tags).toBeUndefined();
    expect(claims.customData).toEqual({ plan: 'pro' });
    expect(omitted).toEqual(['tags', 'customData.bio', 'customData.team.id']);
    expect(sizeOf(claims)).toBeLessThanOrEqual(ACCESS_TOKEN_USER_CLAIMS_MAX_BYTES);
    // The largest roles a user may have fit by themselves, with room to spare.
    expect(sizeOf({ roles })).toBeLessThan(ACCESS_TOKEN_USER_CLAIMS_MAX_BYTES - 128);
  });

  it('takes a path back with the objects it made for it', () => {
    const settings = settingsOf({ roles: false, customData: ['a.b.c', 'd'] });
    const { claims, omitted } = computeUserClaims(
      settings,
      user({ customData: { a: { b: { c: 'x'.repeat(2000) } }, d: 1 } }),
    );
    expect(claims).toEqual({ customData: { d: 1 } });
    expect(omitted).toEqual(['customData.a.b.c']);
  });

  it('counts bytes, not characters', () => {
    const settings = settingsOf({ roles: false, customData: ['name'] });
    // 400 characters of 3 bytes each: 1200 bytes.
    const { omitted } = computeUserClaims(settings, user({ customData: { name: '€'.repeat(400) } }));
    expect(omitted).toEqual(['customData.name']);
  });
});

describe('the accessTokenClaims setting (issue 14)', () => {
  it.each([
    [{ customData: ['team', 'team.id'] }, 'accessTokenClaims.customData: the paths "team" and "team.id" overlap'],
    [{ customData: ['a.__proto__'] }, 'accessTokenClaims.customData: the path "a.__proto__" may not contain __proto__'],
    [{ customData: ['a..b'] }, 'accessTokenClaims.customData.0'],
    [{ customData: ['plan', 'plan'] }, 'accessTokenClaims.customData'],
    [{ customData: Array.from({ length: 17 }, (_, index) => `p${index}`) }, 'accessTokenClaims.customData'],
    [{ roles: 'yes' }, 'accessTokenClaims.roles'],
    [{ scopes: true }, 'accessTokenClaims'],
  ])('refuses %j naming the path', (accessTokenClaims, message) => {
    expect(() => parseAppSettings({ accessTokenClaims })).toThrow(message);
  });

  it('has defaults: roles on, tags off, no customData', () => {
    expect(parseAppSettings({}).accessTokenClaims).toEqual({ roles: true, tags: false, customData: [] });
  });
});
