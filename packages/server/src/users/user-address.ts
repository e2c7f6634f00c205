/**
 * How the app's backend names a user: Tessera's id, or `external:` then the user's externalId
 * (the REST routes take it URL-encoded or not: `:` and every externalId character are allowed in
 * a path segment). Tessera's own ids are UUIDs, which never contain `:`, so the two cannot be confused.
 */
export const EXTERNAL_ADDRESS_PREFIX = 'external:';

/** The longest user address: `external:` and the longest externalId (100). */
export const USER_ADDRESS_MAX_LENGTH = EXTERNAL_ADDRESS_PREFIX.length + 100;

/** The externalId an address names, or undefined when it is Tessera's id. */
export function externalIdIn(address: string): string | undefined {
  return address.startsWith(EXTERNAL_ADDRESS_PREFIX) ? address.slice(EXTERNAL_ADDRESS_PREFIX.length) : undefined;
}
