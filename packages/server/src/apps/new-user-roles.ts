import { MAX_ROLES, Roles, type UserKind } from '@tessera/protocol';
import Type, { type Static } from 'typebox';

/**
 * Per-app roles a user gets when it is created, by its kind (`settings.newUserRoles`): an app
 * that lets anonymous visitors read but not post gives `registered` a role that `anonymous` lacks,
 * and its own servers decide from the token's `roles` claim.
 */
export const NewUserRolesSettings = Type.Object(
  {
    registered: Type.Optional(Roles),
    anonymous: Type.Optional(Roles),
    guest: Type.Optional(Roles),
    external: Type.Optional(Roles),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Roles a new user gets, by kind (`registered`, `anonymous`, `guest`, `external`), at every creation: signup, anonymous and guest logins, provisioning by an external identity, and the secret key’s create when it gives no `roles`. An anonymous user’s upgrade swaps its `anonymous` roles for the `registered` ones. See docs/guide.md, "Roles and claims in access tokens".',
  },
);

export type NewUserRolesSettings = Static<typeof NewUserRolesSettings>;

/** The roles a user of `kind` starts with; none unless the app says so. */
export function newUserRolesOf(settings: NewUserRolesSettings, kind: UserKind): string[] {
  return [...(settings[kind] ?? [])];
}

/**
 * An anonymous user's roles once it is registered: its roles without those every anonymous user
 * starts with, then the registered ones it lacks. Roles the app's backend gave it stay (they come
 * first); past {@link MAX_ROLES}, the last are left out.
 */
export function rolesAfterUpgrade(settings: NewUserRolesSettings, roles: readonly string[]): string[] {
  const anonymous = new Set(settings.anonymous ?? []);
  const kept = roles.filter((role) => !anonymous.has(role));
  const added = (settings.registered ?? []).filter((role) => !kept.includes(role));
  return [...kept, ...added].slice(0, MAX_ROLES);
}
