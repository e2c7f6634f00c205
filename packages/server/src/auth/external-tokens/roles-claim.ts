import { MAX_ROLES, Role } from '@tessera/protocol';
import Value from 'typebox/value';

/**
 * A user's roles from the claim an issuer's or provider's settings name: a list of role names,
 * or one name. The issuer is then the source of the user's roles: a token without the claim, or
 * with one that holds no valid name, means no roles, so that a role taken away at the issuer is
 * gone at the next login. Names that are not roles (see `Role`) are left out; the first 16 kept.
 */
export function rolesFromClaim(value: unknown): string[] {
  const names: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : [];
  const roles = names.filter((name): name is string => typeof name === 'string' && Value.Check(Role, name));
  return [...new Set(roles)].slice(0, MAX_ROLES);
}
