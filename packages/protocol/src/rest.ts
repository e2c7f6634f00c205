/**
 * Shapes of the REST API's request and response bodies, shared by the server, the client SDK
 * and the verifier. Each is a TypeBox schema (the server validates and serializes with it, and
 * the OpenAPI document shows it) with its TypeScript type derived. Timestamps are ISO 8601
 * strings in UTC.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { NullableString, Timestamp, nullable, oneOfStrings } from './schema.js';
import type { UserTokenClaims } from './roles.js';

export const UserKindSchema = oneOfStrings(['registered', 'anonymous', 'guest', 'external']);
export type UserKind = Static<typeof UserKindSchema>;

/** A user as every API answers it. A password hash never appears here. */
export const UserSchema = Type.Object({
  id: Type.String(),
  /** The app's own id of the user (set with the secret key); null when it has none. */
  externalId: NullableString,
  kind: UserKindSchema,
  username: NullableString,
  email: NullableString,
  fullName: NullableString,
  phone: NullableString,
  website: NullableString,
  avatarUrl: NullableString,
  tags: Type.Array(Type.String()),
  roles: Type.Array(Type.String()),
  // Typed as the record it is: the static type of an open object schema would be `{}`.
  customData: Type.Unsafe<Record<string, unknown> | null>(nullable(Type.Object({}, { additionalProperties: true }))),
  disabled: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastLoginAt: nullable(Timestamp),
});
/** A user as every API answers it. A password hash never appears here. */
export type User = Static<typeof UserSchema>;

export const SessionSchema = Type.Object({
  id: Type.String(),
  strategy: Type.String(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  /** When the session ends if it sees no activity. Slides forward with use. */
  idleExpiresAt: Timestamp,
  /** When the session ends regardless of activity. */
  expiresAt: Timestamp,
  userAgent: NullableString,
  ip: NullableString,
  /** True for the session whose access token made this request (in `GET …/me/sessions`). */
  current: Type.Optional(Type.Boolean()),
  /** Open realtime connections of the session across the cluster, as the answering node's presence view has them. */
  connections: Type.Integer({
    minimum: 0,
    description:
      "Open realtime connections of the session across the cluster, as the answering node's presence view has them.",
  }),
});
export type Session = Static<typeof SessionSchema>;

/** The session a login started or continued, as its answer shows it. */
export const SessionSummarySchema = Type.Object({ id: Type.String(), expiresAt: Timestamp, idleExpiresAt: Timestamp });

/** The answer to a successful `POST …/authentication`, in the shape Feathers' client expects. */
export const AuthenticationResultSchema = Type.Object({
  accessToken: Type.String(),
  /** Single-use token that resumes this session; rotated on every use. */
  reconnectToken: Type.String(),
  authentication: Type.Object({
    strategy: Type.String(),
    /** Absolute expiry of the access token. */
    accessTokenExpiresAt: Timestamp,
    reconnectTokenExpiresAt: Timestamp,
  }),
  session: SessionSummarySchema,
  user: UserSchema,
});
/** The answer to a successful `POST …/authentication`, in the shape Feathers' client expects. */
export type AuthenticationResult = Static<typeof AuthenticationResultSchema>;

/** The shortest and the longest lifetime of an auth token, in seconds. */
export const AUTH_TOKEN_LIFETIME_SECONDS = { min: 60, max: 10 * 366 * 24 * 3600 } as const;

/** `POST …/users/{userId}/auth-tokens` (secret key). Give `expiresIn` or `expiresAt`, or neither for no expiry. */
export const CreateAuthTokenBodySchema = Type.Object(
  {
    label: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'What the token is for, e.g. the device. Shown in lists.',
      }),
    ),
    /** Lifetime in seconds, from 60 to ten years. */
    expiresIn: Type.Optional(
      Type.Integer({
        minimum: AUTH_TOKEN_LIFETIME_SECONDS.min,
        maximum: AUTH_TOKEN_LIFETIME_SECONDS.max,
        description: 'Lifetime in seconds. Give this or expiresAt, or neither for a token that never expires.',
      }),
    ),
    /** ISO 8601 instant, from a minute to ten years ahead. */
    expiresAt: Type.Optional(
      Type.String({
        format: 'date-time',
        maxLength: 64,
        description: 'When the token stops working (ISO 8601), at least a minute and at most ten years ahead.',
      }),
    ),
  },
  { additionalProperties: false },
);
/** `POST …/users/{userId}/auth-tokens` (secret key). Give `expiresIn` or `expiresAt`, or neither for no expiry. */
export type CreateAuthTokenBody = Static<typeof CreateAuthTokenBodySchema>;

/** An auth token's metadata; the token itself is never listed. */
export const AuthTokenSchema = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  label: nullable(Type.String()),
  createdAt: Timestamp,
  expiresAt: nullable(Timestamp),
  lastUsedAt: nullable(Timestamp),
});
/** An auth token's metadata; the token itself is never listed. */
export type AuthToken = Static<typeof AuthTokenSchema>;

/** The answer to creating an auth token: the only time `token` is shown. */
export const CreatedAuthTokenSchema = Type.Object({ token: Type.String(), ...AuthTokenSchema.properties });
/** The answer to creating an auth token: the only time `token` is shown. */
export type CreatedAuthToken = Static<typeof CreatedAuthTokenSchema>;

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** The schema of a {@link Page} of `item`. */
export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: NullableString });

/**
 * Claims of an access token. `aud` is the app (`namespace/app`). The user's roles, tags and
 * chosen `customData` are there when the app's `accessTokenClaims` setting asks for them.
 * `kind` is the user's kind when the token was issued; every token carries it, but tokens
 * issued before Tessera added it (December 2026) do not, hence optional.
 */
export interface AccessTokenClaims extends UserTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  jti: string;
  kind?: UserKind;
}
