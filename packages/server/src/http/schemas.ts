import Type, { type Static, type TSchema } from 'typebox';
import { NAME_PATTERN } from '../apps/app-service.js';

/**
 * Response schemas: they document the API and make serialization drop anything not listed.
 * Nullable fields and enums are written as JSON Schema type lists and `enum`, not `anyOf`:
 * fast-json-stringify serializes those directly, where an `anyOf` makes it run a validator on
 * every field of every answer to choose a branch.
 */
const Timestamp = Type.String({ format: 'date-time' });

export function nullable<T extends TSchema & { type: string }>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });
}

export function oneOfStrings<const Values extends readonly string[]>(values: Values) {
  return Type.Unsafe<Values[number]>({ type: 'string', enum: values });
}

const NullableString = nullable(Type.String());

export const UserSchema = Type.Object({
  id: Type.String(),
  kind: oneOfStrings(['registered', 'anonymous', 'guest', 'external']),
  username: NullableString,
  email: NullableString,
  fullName: NullableString,
  phone: NullableString,
  website: NullableString,
  avatarUrl: NullableString,
  tags: Type.Array(Type.String()),
  customData: nullable(Type.Object({}, { additionalProperties: true })),
  disabled: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastLoginAt: nullable(Timestamp),
});

export const SessionSchema = Type.Object({
  id: Type.String(),
  strategy: Type.String(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  idleExpiresAt: Timestamp,
  expiresAt: Timestamp,
  userAgent: NullableString,
  ip: NullableString,
  current: Type.Optional(Type.Boolean()),
  connections: Type.Integer({
    minimum: 0,
    description:
      "Open realtime connections of the session across the cluster, as the answering node's presence view has them.",
  }),
});

/** The answer of the calls that end several sessions at once. */
export const RevokedCountSchema = Type.Object({
  revoked: Type.Integer({ minimum: 0, description: 'How many live sessions this call ended.' }),
});

export const AuthenticationResultSchema = Type.Object({
  accessToken: Type.String(),
  reconnectToken: Type.String(),
  authentication: Type.Object({
    strategy: Type.String(),
    accessTokenExpiresAt: Timestamp,
    reconnectTokenExpiresAt: Timestamp,
  }),
  session: Type.Object({ id: Type.String(), expiresAt: Timestamp, idleExpiresAt: Timestamp }),
  user: UserSchema,
});

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      status: Type.Integer(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: 'Every error has this shape; `code` is stable (see docs/errors.md).' },
);

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: NullableString });

export const AppParams = Type.Object({
  namespace: Type.String({ pattern: NAME_PATTERN }),
  app: Type.String({ pattern: NAME_PATTERN }),
});

/**
 * The error answers of a route, for its OpenAPI entry. A route that checks a credential (401)
 * can also answer 429: a caller past its limit of failed checks is refused (auth/limits/).
 */
export const errorResponses = (...statuses: number[]) => {
  const all = statuses.includes(401) && !statuses.includes(429) ? [...statuses, 429] : statuses;
  return Object.fromEntries(all.map((status) => [status, ErrorSchema]));
};
