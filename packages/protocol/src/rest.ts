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
  /** True for the session whose access token made this request. */
  current?: boolean;
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

export type AuthenticationBody = LocalLoginBody | ReconnectLoginBody | AccessTokenLoginBody;

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
