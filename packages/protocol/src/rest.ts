/**
 * Shapes of the REST API's request and response bodies, shared by the server, the client SDK
 * and the verifier. Timestamps are ISO 8601 strings in UTC.
 */

export type UserKind = 'registered' | 'anonymous' | 'guest' | 'external';

/** A user as every API answers it. A password hash never appears here. */
export interface User {
  id: string;
  kind: UserKind;
  username: string | null;
  email: string | null;
  fullName: string | null;
  phone: string | null;
  website: string | null;
  avatarUrl: string | null;
  tags: string[];
  customData: Record<string, unknown> | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

/** Profile fields a user may set at signup and change later. */
export interface ProfileFields {
  fullName?: string | null;
  phone?: string | null;
  website?: string | null;
  avatarUrl?: string | null;
  tags?: string[];
  customData?: Record<string, unknown> | null;
}

export interface SignupBody extends ProfileFields {
  username?: string;
  email?: string;
  password: string;
}

export interface UpdateMeBody extends ProfileFields {
  username?: string;
  email?: string;
  /** New password; requires `oldPassword`. Ends every other session of the user. */
  password?: string;
  oldPassword?: string;
}

export interface Session {
  id: string;
  strategy: string;
  createdAt: string;
  lastSeenAt: string;
  /** When the session ends if it sees no activity. Slides forward with use. */
  idleExpiresAt: string;
  /** When the session ends regardless of activity. */
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  /** True for the session whose access token made this request (in `GET …/me/sessions`). */
  current?: boolean;
  /** Open realtime connections of the session across the cluster, as the answering node's presence view has them. */
  connections: number;
}

export interface LocalLoginBody {
  strategy: 'local';
  email?: string;
  username?: string;
  password: string;
}

export interface ReconnectLoginBody {
  strategy: 'reconnect';
  token: string;
}

export interface AccessTokenLoginBody {
  strategy: 'access-token';
  accessToken: string;
}

/** A new anonymous user each time (needs `anonymous.enabled`); ended when its last session ends. */
export interface AnonymousLoginBody {
  strategy: 'anonymous';
  /** Up to 128 characters; trimmed; kept as the user's `fullName`. */
  displayName?: string;
}

/** A new guest user each time (needs `guest.enabled`); lasts the app's `guest.lifetime`. */
export interface GuestLoginBody {
  strategy: 'guest';
  /** Up to 128 characters; trimmed. */
  fullName: string;
}

/** Development only (needs `key.enabled`, refused in production mode): a user id and the app's publishable key. */
export interface KeyLoginBody {
  strategy: 'key';
  userId: string;
  key: string;
}

/** `POST …/me/upgrade`: an anonymous user becomes a registered one, keeping its id. Answers an AuthenticationResult. */
export type UpgradeBody = SignupBody;

/** A long-lived auth token the app's backend made for the user (`at_…`). */
export interface AuthTokenLoginBody {
  strategy: 'auth-token';
  token: string;
}

/** The app's own opaque token, checked by its identity-provider webhook. */
export interface CustomLoginBody {
  strategy: 'custom';
  token: string;
}

/** An ID token from one of the app's OpenID Connect providers. */
export interface OidcLoginBody {
  strategy: 'oidc';
  idToken: string;
  /** The nonce sent in the authentication request; when given, the token must carry the same. */
  nonce?: string;
}

/** A JWT from one of the app's trusted issuers. */
export interface JwtLoginBody {
  strategy: 'jwt';
  token: string;
  /** The trusted issuer's id; needed only when the token's `iss` does not name exactly one. */
  issuer?: string;
}

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

/** `POST …/users/{userId}/auth-tokens` (secret key). Give `expiresIn` or `expiresAt`, or neither for no expiry. */
export interface CreateAuthTokenBody {
  label?: string;
  /** Lifetime in seconds, from 60 to ten years. */
  expiresIn?: number;
  /** ISO 8601 instant, from a minute to ten years ahead. */
  expiresAt?: string;
}

/** An auth token's metadata; the token itself is never listed. */
export interface AuthToken {
  id: string;
  userId: string;
  label: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/** The answer to creating an auth token: the only time `token` is shown. */
export interface CreatedAuthToken extends AuthToken {
  token: string;
}

/** The answer to a successful `POST …/authentication`, in the shape Feathers' client expects. */
export interface AuthenticationResult {
  accessToken: string;
  /** Single-use token that resumes this session; rotated on every use. */
  reconnectToken: string;
  authentication: {
    strategy: string;
    /** Absolute expiry of the access token. */
    accessTokenExpiresAt: string;
    reconnectTokenExpiresAt: string;
  };
  session: Pick<Session, 'id' | 'expiresAt' | 'idleExpiresAt'>;
  user: User;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Claims of an access token. `aud` is the app (`namespace/app`). */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  jti: string;
}
