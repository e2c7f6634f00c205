import Type from 'typebox';
import Value from 'typebox/value';
import { Email, ProfileProperties } from '../../../users/profile-schema.js';
import { claimAt } from '../../external-tokens/claim-path.js';
import { rolesFromClaim } from '../../external-tokens/roles-claim.js';
import type { ExternalProfile } from '../../identities/external-users.js';
import type { IdTokenClaims } from './id-token.js';
import type { OidcProviderSettings } from './settings.js';

const FULL_NAME_MAX = 128;
const FullName = Type.Object({ fullName: ProfileProperties.fullName });
const AvatarUrl = Type.Object({ avatarUrl: ProfileProperties.avatarUrl });
const Phone = Type.Object({ phone: ProfileProperties.phone });

/**
 * Maps standard claims (OpenID Connect Core 1.0, §5.1) to Tessera's profile fields (a field the
 * token does not give well is left out): `email` only
 * when the provider says `email_verified: true` (an unverified address would let anyone claim
 * someone else's), `name` or else `given_name` + `family_name`, `picture`, and `phone_number`
 * unless `phone_number_verified` is false (Firebase's phone sign-in omits the flag: it only
 * issues the token once the SMS code was entered). A phone number does not log anyone in.
 */
export function profileFromClaims(claims: IdTokenClaims): ExternalProfile {
  const profile: ExternalProfile = {};
  const email = stringClaim(claims.email);
  if (email !== undefined && claims.email_verified === true && Value.Check(Email, email)) profile.email = email;
  const fullName = fullNameOf(claims);
  if (fullName !== undefined && Value.Check(FullName, { fullName })) profile.fullName = fullName;
  const avatarUrl = stringClaim(claims.picture);
  if (avatarUrl !== undefined && Value.Check(AvatarUrl, { avatarUrl })) profile.avatarUrl = avatarUrl;
  const phone = stringClaim(claims.phone_number);
  if (phone !== undefined && claims.phone_number_verified !== false && Value.Check(Phone, { phone }))
    profile.phone = phone;
  return profile;
}

/** The profile, with the user's roles when the provider's settings map a claim to them (see rolesFromClaim). */
export function profileFromProvider(claims: IdTokenClaims, provider: OidcProviderSettings): ExternalProfile {
  const profile = profileFromClaims(claims);
  const rolesClaim = provider.claims?.roles;
  if (typeof rolesClaim === 'string') profile.roles = rolesFromClaim(claimAt(claims, rolesClaim));
  return profile;
}

function fullNameOf(claims: IdTokenClaims): string | undefined {
  const name =
    stringClaim(claims.name) ??
    [stringClaim(claims.given_name), stringClaim(claims.family_name)].filter((part) => part !== undefined).join(' ');
  if (name === '') return undefined;
  // A name longer than the profile allows is cut rather than dropped, by code points so no character is split.
  return [...name].slice(0, FULL_NAME_MAX).join('');
}

function stringClaim(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}
