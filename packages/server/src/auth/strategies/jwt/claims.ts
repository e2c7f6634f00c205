import Value from 'typebox/value';
import { Email, ExternalId, ProfileProperties } from '../../../users/profile-schema.js';
import { claimAt, type Claims } from '../../external-tokens/claim-path.js';
import { rolesFromClaim } from '../../external-tokens/roles-claim.js';
import type { ExternalProfile } from '../../identities/external-users.js';
import type { TrustedIssuerSettings } from './settings.js';
import { TokenRejected } from './token-rejected.js';

/** Reads claims of a verified token into a user id and profile fields. */

export type { Claims };

const MAX_SUBJECT_LENGTH = 256;

/** The user's id at the issuer: a non-empty string, or an integer (ApiRTC ids often are). */
export function userIdFrom(claims: Claims, path: string): string {
  const value = claimAt(claims, path);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_SUBJECT_LENGTH) return value;
  if (value === undefined)
    throw new TokenRejected('missing_claim', `The token has no user id at ${path}.`, { claim: path });
  throw new TokenRejected(
    'bad_user_id',
    `The user id at ${path} is not a string of 1 to ${MAX_SUBJECT_LENGTH} characters or an integer.`,
    { claim: path },
  );
}

/**
 * Profile fields from the claims the issuer's mapping names. A claim that is absent, or that
 * does not fit the profile's own rules (an email that is not one, a 500-character name), is
 * left out rather than failing the login: the token is proven, its decoration is best effort.
 */
export function profileFrom(claims: Claims, mapping: TrustedIssuerSettings['claims']): ExternalProfile {
  const read = (path: string | null): unknown => (path === null ? undefined : claimAt(claims, path));
  const profile: ExternalProfile = {};
  const fullName = pickName(
    read(mapping.displayName),
    read(mapping.fullName),
    read(mapping.firstName),
    read(mapping.lastName),
  );
  if (fullName !== undefined) profile.fullName = fullName;
  const email = read(mapping.email);
  if (typeof email === 'string' && Value.Check(Email, email.trim())) profile.email = email.trim();
  const tags = tagsFrom(read(mapping.groups));
  if (tags !== undefined) profile.tags = tags;
  // A mapped roles claim that is absent says "no roles", unlike the profile's fields (see rolesFromClaim).
  if (mapping.roles !== null) profile.roles = rolesFromClaim(read(mapping.roles));
  const externalId = externalIdFrom(read(mapping.externalId ?? null));
  if (externalId !== undefined) profile.externalId = externalId;
  return profile;
}

/** An externalId: a string of its form, or an integer (ConnectyCube's and CometChat's ids often are). */
export function externalIdFrom(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  return typeof text === 'string' && Value.Check(ExternalId, text) ? text : undefined;
}

const FullName = ProfileProperties.fullName;

function pickName(displayName: unknown, fullName: unknown, firstName: unknown, lastName: unknown): string | undefined {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
  const joined = [text(firstName), text(lastName)].filter((part) => part !== undefined).join(' ');
  for (const candidate of [text(displayName), text(fullName), joined === '' ? undefined : joined]) {
    if (candidate !== undefined && Value.Check(FullName, candidate)) return candidate;
  }
  return undefined;
}

/** Group names that make valid tags (1 to 64 characters, at most 50, no repeats). */
function tagsFrom(groups: unknown): string[] | undefined {
  if (!Array.isArray(groups)) return undefined;
  const names = groups.filter(
    (group): group is string => typeof group === 'string' && group.length >= 1 && group.length <= 64,
  );
  return [...new Set(names)].slice(0, 50);
}
