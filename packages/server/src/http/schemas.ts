import Type, { type TSchema } from 'typebox';
import { NAME_PATTERN } from '../apps/app-service.js';

/** Response schemas: they document the API and make serialization drop anything not listed. */
const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal('registered'), Type.Literal('anonymous'), Type.Literal('guest'), Type.Literal('external')]),
    username: NullableString,
    email: NullableString,
    fullName: NullableString,
    phone: NullableString,
    website: NullableString,
    avatarUrl: NullableString,
    tags: Type.Array(Type.String()),
    customData: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    disabled: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    lastLoginAt: Type.Union([Timestamp, Type.Null()]),
  },
);

export const SessionSchema = Type.Object(
  {
    id: Type.String(),
    strategy: Type.String(),
    createdAt: Timestamp,
    lastSeenAt: Timestamp,
    idleExpiresAt: Timestamp,
    expiresAt: Timestamp,
    userAgent: NullableString,
    ip: NullableString,
    current: Type.Optional(Type.Boolean()),
  },
);

export const AuthenticationResultSchema = Type.Object({
  accessToken: Type.String(),
  reconnectToken: Type.String(),
  authentication: Type.Object({ strategy: Type.String(), accessTokenExpiresAt: Timestamp, reconnectTokenExpiresAt: Timestamp }),
  session: Type.Object({ id: Type.String(), expiresAt: Timestamp, idleExpiresAt: Timestamp }),
  user: UserSchema,
});

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({ code: Type.String(), message: Type.String(), status: Type.Integer(), details: Type.Optional(Type.Unknown()) }),
  },
  { description: 'Every error has this shape; `code` is stable (see docs/errors.md).' },
);

export const pageOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: NullableString });

export const AppParams = Type.Object({
  namespace: Type.String({ pattern: NAME_PATTERN }),
  app: Type.String({ pattern: NAME_PATTERN }),
});

export const errorResponses = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, ErrorSchema]));
