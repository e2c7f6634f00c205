/**
 * Token introspection (RFC 7662): a server of the app's own, holding a secret key with the scope
 * `sessions:read`, asks Tessera whether an access token is usable now and whose it is.
 */
import Type, { type Static } from 'typebox';
import { UserKindSchema } from './rest.js';

/** The longest token an introspection request may carry (an access token is far shorter). */
export const INTROSPECTED_TOKEN_MAX_LENGTH = 8192;

/**
 * `POST …/introspect`, form-encoded (as RFC 7662 §2.1 has it) or JSON. `token_type_hint` is
 * accepted and ignored: access tokens are the one kind introspected. Other parameters (a
 * `client_id` some libraries add) are ignored as well.
 */
export const IntrospectionRequestSchema = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: INTROSPECTED_TOKEN_MAX_LENGTH }),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);
export type IntrospectionRequest = Static<typeof IntrospectionRequestSchema>;

/**
 * RFC 7662 §2.2. An unusable token, whatever the reason (forged, expired, of another app, its
 * session ended, its user disabled), answers `{ "active": false }` and nothing else. An active
 * one carries the token's own claims (`roles`, `tags`, `customData` as the token has them), and
 * Tessera's `sid` (the session) and `kind` (the user's kind now).
 */
export const IntrospectionSchema = Type.Object({
  active: Type.Boolean(),
  /** How the token is presented (RFC 6749 §7.1): always `Bearer`. */
  token_type: Type.Optional(Type.Literal('Bearer')),
  /** The app the token is for, `namespace/app`: the same as `aud`. */
  client_id: Type.Optional(Type.String()),
  /** The user's username now, when it has one. */
  username: Type.Optional(Type.String()),
  sub: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  kind: Type.Optional(UserKindSchema),
  /** Seconds since the epoch, as in the token. */
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  iss: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  jti: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Type.String())),
  tags: Type.Optional(Type.Array(Type.String())),
  // Typed as the record it is: the static type of an open object schema would be `{}`.
  customData: Type.Optional(Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true }))),
});
export type Introspection = Static<typeof IntrospectionSchema>;
