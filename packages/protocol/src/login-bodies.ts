/**
 * The body of `POST …/authentication` for each login strategy (and of the realtime
 * `authenticate` frame, with `type`). The server validates a login against the schema of the
 * strategy it names; the OpenAPI document shows them all.
 */
import Type, { type Static } from 'typebox';
import { Email, Username } from './profile.js';

/** The longest display name kept, in code points after normalisation (the profile's `fullName` bound). */
export const DISPLAY_NAME_MAX_LENGTH = 128;

/**
 * A display name as a login body carries it. Bounded generously so that padding and combining
 * forms still fit; the server normalises it and applies the real limit.
 */
export const DisplayNameInput = Type.String({
  maxLength: 4 * DISPLAY_NAME_MAX_LENGTH,
  description: `Up to ${DISPLAY_NAME_MAX_LENGTH} characters; trimmed.`,
});

export const LocalLoginBodySchema = Type.Object(
  {
    strategy: Type.Literal('local'),
    email: Type.Optional(Email),
    username: Type.Optional(Username),
    // Bounded generously: the app's policy applies when a password is set, not here (stored passwords keep working).
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false, description: 'Username or email, and password.' },
);
export type LocalLoginBody = Static<typeof LocalLoginBodySchema>;

export const ReconnectLoginBodySchema = Type.Object(
  { strategy: Type.Literal('reconnect'), token: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false, description: 'A reconnect token from an earlier authentication; single use.' },
);
export type ReconnectLoginBody = Static<typeof ReconnectLoginBodySchema>;

export const AccessTokenLoginBodySchema = Type.Object(
  { strategy: Type.Literal('access-token'), accessToken: Type.String({ minLength: 1, maxLength: 8192 }) },
  { additionalProperties: false, description: 'A still-valid access token of this app; continues its session.' },
);
export type AccessTokenLoginBody = Static<typeof AccessTokenLoginBodySchema>;

/** A new anonymous user each time (needs `anonymous.enabled`); ended when its last session ends. */
export const AnonymousLoginBodySchema = Type.Object(
  {
    strategy: Type.Literal('anonymous'),
    /** Up to 128 characters; trimmed; kept as the user's `fullName`. */
    displayName: Type.Optional(DisplayNameInput),
  },
  { additionalProperties: false, description: 'An optional display name; every login makes a new anonymous user.' },
);
/** A new anonymous user each time (needs `anonymous.enabled`); ended when its last session ends. */
export type AnonymousLoginBody = Static<typeof AnonymousLoginBodySchema>;

/** A new guest user each time (needs `guest.enabled`); lasts the app's `guest.lifetime`. */
export const GuestLoginBodySchema = Type.Object(
  {
    strategy: Type.Literal('guest'),
    /** Up to 128 characters; trimmed. */
    fullName: DisplayNameInput,
  },
  { additionalProperties: false, description: "The guest's full name; every login makes a new guest user." },
);
/** A new guest user each time (needs `guest.enabled`); lasts the app's `guest.lifetime`. */
export type GuestLoginBody = Static<typeof GuestLoginBodySchema>;

/** Development only (needs `key.enabled`, refused in production mode): a user id and the app's publishable key. */
export const KeyLoginBodySchema = Type.Object(
  {
    strategy: Type.Literal('key'),
    userId: Type.String({ minLength: 1, maxLength: 64, description: 'The Tessera id of the user to log in as.' }),
    key: Type.String({ minLength: 1, maxLength: 256, description: "The app's publishable key (pk_…)." }),
  },
  {
    additionalProperties: false,
    description: "Development only: a user id and the app's publishable key, no secret of the user.",
  },
);
/** Development only (needs `key.enabled`, refused in production mode): a user id and the app's publishable key. */
export type KeyLoginBody = Static<typeof KeyLoginBodySchema>;

/** A long-lived auth token the app's backend made for the user (`at_…`). */
export const AuthTokenLoginBodySchema = Type.Object(
  {
    strategy: Type.Literal('auth-token'),
    token: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'An `at_…` token the app’s backend made for the user.',
    }),
  },
  {
    additionalProperties: false,
    description: 'A long-lived auth token made with the secret key (CometChat’s auth token login).',
  },
);
/** A long-lived auth token the app's backend made for the user (`at_…`). */
export type AuthTokenLoginBody = Static<typeof AuthTokenLoginBodySchema>;

/** The app's own opaque token, checked by its identity-provider webhook. */
export const CustomLoginBodySchema = Type.Object(
  {
    strategy: Type.Literal('custom'),
    token: Type.String({
      minLength: 1,
      maxLength: 8192,
      description: 'The app’s own opaque token; Tessera asks the app’s identity provider about it.',
    }),
  },
  {
    additionalProperties: false,
    description:
      'A token of the app’s own user system, checked by its identity-provider webhook (ConnectyCube’s custom identity provider).',
  },
);
/** The app's own opaque token, checked by its identity-provider webhook. */
export type CustomLoginBody = Static<typeof CustomLoginBodySchema>;

/** An ID token from one of the app's OpenID Connect providers. */
export const OidcLoginBodySchema = Type.Object(
  {
    strategy: Type.Literal('oidc'),
    idToken: Type.String({
      minLength: 1,
      maxLength: 8192,
      description: 'An ID token issued to the app’s client id by one of its OpenID providers.',
    }),
    /** The nonce sent in the authentication request; when given, the token must carry the same. */
    nonce: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: 'The nonce the client sent in its authentication request; the token must carry the same.',
      }),
    ),
  },
  { additionalProperties: false, description: 'An ID token from one of the app’s OpenID Connect providers.' },
);
/** An ID token from one of the app's OpenID Connect providers. */
export type OidcLoginBody = Static<typeof OidcLoginBodySchema>;

/** A JWT from one of the app's trusted issuers. */
export const JwtLoginBodySchema = Type.Object(
  {
    strategy: Type.Literal('jwt'),
    // Generous here so that a too-large token is answered `invalid_token` by the verifier (8 KiB).
    token: Type.String({
      minLength: 1,
      maxLength: 65_536,
      description: "A JWT signed by one of the app's trusted issuers.",
    }),
    /** The trusted issuer's id; needed only when the token's `iss` does not name exactly one. */
    issuer: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "The trusted issuer's id; needed only when the token's iss does not tell.",
      }),
    ),
  },
  { additionalProperties: false, description: "A token from one of the app's trusted issuers (external JWT)." },
);
/** A JWT from one of the app's trusted issuers. */
export type JwtLoginBody = Static<typeof JwtLoginBodySchema>;

export type AuthenticationBody =
  | LocalLoginBody
  | ReconnectLoginBody
  | AccessTokenLoginBody
  | AuthTokenLoginBody
  | CustomLoginBody
  | OidcLoginBody
  | AnonymousLoginBody
  | GuestLoginBody
  | KeyLoginBody
  | JwtLoginBody;
