import { ErrorSchema } from '@tessera/protocol';
import Type from 'typebox';
import { NAME_PATTERN } from '../apps/app-service.js';
import { USER_ADDRESS_MAX_LENGTH } from './user-address.js';

/*
 * Response schemas: they document the API and make serialization drop anything not listed. The
 * wire shapes a client also knows live in @tessera/protocol; those only the server's routes use
 * live here.
 */
export {
  AuthTokenSchema,
  AuthenticationResultSchema,
  CreateAuthTokenBodySchema,
  CreatedAuthTokenSchema,
  ErrorSchema,
  SessionSchema,
  UserSchema,
  nullable,
  oneOfStrings,
  pageOf,
} from '@tessera/protocol';

/** The answer of the calls that end several sessions at once. */
export const RevokedCountSchema = Type.Object({
  revoked: Type.Integer({ minimum: 0, description: 'How many live sessions this call ended.' }),
});

export const AppParams = Type.Object({
  namespace: Type.String({ pattern: NAME_PATTERN }),
  app: Type.String({ pattern: NAME_PATTERN }),
});

/** The path of a route under `…/users/{userId}`; the user is named by its id or `external:{externalId}`. */
export const UserParams = Type.Object({
  namespace: Type.String(),
  app: Type.String(),
  userId: Type.String({
    maxLength: USER_ADDRESS_MAX_LENGTH,
    description: "The user's id, or `external:` followed by its externalId (URL-encoded).",
  }),
});

/**
 * The error answers of a route, for its OpenAPI entry. A route that checks a credential (401)
 * can also answer 429: a caller past its limit of failed checks is refused (auth/limits/).
 */
export const errorResponses = (...statuses: number[]) => {
  const all = statuses.includes(401) && !statuses.includes(429) ? [...statuses, 429] : statuses;
  return Object.fromEntries(all.map((status) => [status, ErrorSchema]));
};
