import type { TSchema } from 'typebox';
import Type from 'typebox';
import Value from 'typebox/value';
import type { ExternalProfile } from '../../identities/external-users.js';
import { Email, ExternalId, Username } from '../../../users/profile-schema.js';
import type { CustomSettings } from './settings.js';
import { unreachable } from './webhook.js';

/** What the identity provider says about the token's owner, in Tessera's terms. */
export interface ProviderAnswer {
  /** The provider's stable id of the user: the identity's subject. */
  subject: string;
  profile: ExternalProfile;
}

const SUBJECT_MAX_LENGTH = 255;
const FullName = Type.String({ minLength: 1, maxLength: 128 });

/**
 * Maps the provider's answer onto a profile by the app's mapping. The id must be there (a
 * non-empty string or an integer); the other fields may be absent or null, but when present
 * they must fit Tessera's rules: a provider answering nonsense gets a clear error naming the field.
 */
export function mapAnswer(answer: Record<string, unknown>, mapping: CustomSettings['mapping']): ProviderAnswer {
  const subject = subjectOf(valueAt(answer, mapping.id));
  const profile: ExternalProfile = {};
  const username = optionalField(answer, mapping.login, Username, 'login');
  const email = optionalField(answer, mapping.email, Email, 'email');
  const fullName = optionalField(answer, mapping.fullName, FullName, 'fullName');
  if (username !== undefined) profile.username = username;
  if (email !== undefined) profile.email = email;
  if (fullName !== undefined) profile.fullName = fullName;
  const externalId = optionalField(answer, mapping.externalId ?? null, ExternalId, 'externalId', { integers: true });
  if (externalId !== undefined) profile.externalId = externalId;
  return { subject, profile };
}

function subjectOf(value: unknown): string {
  if (value === undefined || value === null || value === '') throw unreachable('missing_id');
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && value.length <= SUBJECT_MAX_LENGTH) return value;
  throw unreachable('invalid_field', {
    field: 'id',
    message: `must be a non-empty string of at most ${SUBJECT_MAX_LENGTH} characters or an integer`,
  });
}

function optionalField(
  answer: Record<string, unknown>,
  path: string | null,
  schema: TSchema,
  field: string,
  { integers = false }: { integers?: boolean } = {},
): string | undefined {
  if (path === null) return undefined;
  const found = valueAt(answer, path);
  if (found === undefined || found === null) return undefined;
  const value = integers && typeof found === 'number' && Number.isSafeInteger(found) ? String(found) : found;
  if (typeof value !== 'string' || !Value.Check(schema, value))
    throw unreachable('invalid_field', { field, message: `does not fit Tessera's rules for ${field}` });
  return value;
}

/** Follows a dotted path through own properties only, so `__proto__` and friends lead nowhere. */
function valueAt(answer: Record<string, unknown>, path: string): unknown {
  let current: unknown = answer;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, key))
      return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
