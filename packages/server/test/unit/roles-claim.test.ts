import { describe, expect, it } from 'vitest';
import { rolesFromClaim } from '../../src/auth/external-tokens/roles-claim.js';

// Issue 14, item 5: roles mapped from a trusted issuer's or an OpenID provider's claim.

describe('rolesFromClaim (issue 14)', () => {
  it('takes a list of role names, or one name', () => {
    expect(rolesFromClaim(['admin', 'Task.Write', 'room:lobby:publish'])).toEqual([
      'admin',
      'Task.Write',
      'room:lobby:publish',
    ]);
    expect(rolesFromClaim('editor')).toEqual(['editor']);
  });

  it('means no roles when the claim is absent or holds none', () => {
    for (const value of [undefined, null, 42, {}, [], [1, null, {}], 'has space'])
      expect(rolesFromClaim(value), JSON.stringify(value)).toEqual([]);
  });

  it('leaves out names that are not roles and repeats, and keeps the first 16', () => {
    expect(rolesFromClaim(['ok', 'Not A Role', '', 'x'.repeat(49), 'ok', 'é', 7])).toEqual(['ok']);
    const many = Array.from({ length: 20 }, (_, index) => `r${index}`);
    expect(rolesFromClaim(many)).toEqual(many.slice(0, 16));
  });
});
