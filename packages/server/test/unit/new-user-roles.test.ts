import { MAX_ROLES } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import { newUserRolesOf, rolesAfterUpgrade } from '../../src/apps/new-user-roles.js';
import { parseAppSettings } from '../../src/apps/settings.js';

// Issue 15, item 5: roles by kind for new users, and what an anonymous user's upgrade makes of them.

describe('newUserRoles (apps/new-user-roles.ts)', () => {
  it('defaults to no roles for every kind', () => {
    const { newUserRoles } = parseAppSettings({});
    expect(newUserRoles).toEqual({});
    for (const kind of ['registered', 'anonymous', 'guest', 'external'] as const)
      expect(newUserRolesOf(newUserRoles, kind)).toEqual([]);
  });

  it('answers a copy of the kind’s roles', () => {
    const settings = { anonymous: ['reader'] };
    const roles = newUserRolesOf(settings, 'anonymous');
    roles.push('poster');
    expect(settings.anonymous).toEqual(['reader']);
  });

  it('an upgrade takes away the anonymous roles, keeps the others first and adds the registered ones once', () => {
    const settings = { anonymous: ['reader', 'anon'], registered: ['reader', 'poster'] };
    expect(rolesAfterUpgrade(settings, ['anon', 'reader', 'vip'])).toEqual(['vip', 'reader', 'poster']);
    expect(rolesAfterUpgrade(settings, ['poster'])).toEqual(['poster', 'reader']);
    expect(rolesAfterUpgrade({}, ['vip'])).toEqual(['vip']);
  });

  it('never gives more than the most roles a user has', () => {
    const own = Array.from({ length: MAX_ROLES }, (_, index) => `own${index}`);
    const roles = rolesAfterUpgrade({ registered: ['poster'] }, own);
    expect(roles).toEqual(own);
  });
});
