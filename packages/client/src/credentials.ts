import type { AuthenticationResult, User } from '@tessera/protocol';

/**
 * What the client keeps of a login. Times are milliseconds on the client's own clock: the
 * server's times are shifted by the skew measured from the access token's `iat`, so a client
 * whose clock is wrong still refreshes on time.
 */
export interface Credentials {
  accessToken: string;
  /** When this client received the access token. */
  accessTokenIssuedAt: number;
  accessTokenExpiresAt: number;
  reconnectToken: string;
  reconnectTokenExpiresAt: number;
  /** The strategy of the login that started this session. */
  strategy: string;
  session: { id: string; expiresAt: number; idleExpiresAt: number };
  user: User;
}

/** The storage format's version; a stored value of another version is ignored. */
const FORMAT = 1;

/** The payload of a JWT, unverified (the server verifies; the client only reads times). */
function claimsOf(token: string): { iat?: unknown; exp?: unknown } {
  try {
    const part = token.split('.')[1] ?? '';
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as { iat?: unknown; exp?: unknown };
  } catch {
    return {};
  }
}

/** A login's or refresh's answer, received at `receivedAt` on the client's clock. */
export function credentialsOf(
  result: Pick<AuthenticationResult, 'accessToken' | 'reconnectToken' | 'authentication' | 'session' | 'user'>,
  receivedAt: number,
): Credentials {
  const { iat, exp } = claimsOf(result.accessToken);
  // Server time minus client time, when the token says when it was made.
  const skew = typeof iat === 'number' ? iat * 1000 - receivedAt : 0;
  const local = (iso: string): number => Date.parse(iso) - skew;
  return {
    accessToken: result.accessToken,
    accessTokenIssuedAt: receivedAt,
    accessTokenExpiresAt:
      typeof exp === 'number' ? exp * 1000 - skew : local(result.authentication.accessTokenExpiresAt),
    reconnectToken: result.reconnectToken,
    reconnectTokenExpiresAt: local(result.authentication.reconnectTokenExpiresAt),
    strategy: result.authentication.strategy,
    session: {
      id: result.session.id,
      expiresAt: local(result.session.expiresAt),
      idleExpiresAt: local(result.session.idleExpiresAt),
    },
    user: result.user,
  };
}

export function serialize(credentials: Credentials): string {
  return JSON.stringify({ v: FORMAT, ...credentials });
}

/** Stored credentials, or null when absent, of another format or damaged. */
export function parse(text: string | null): Credentials | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<Credentials> & { v?: unknown };
    const valid =
      value.v === FORMAT &&
      typeof value.accessToken === 'string' &&
      typeof value.reconnectToken === 'string' &&
      typeof value.accessTokenIssuedAt === 'number' &&
      typeof value.accessTokenExpiresAt === 'number' &&
      typeof value.reconnectTokenExpiresAt === 'number' &&
      typeof value.session?.id === 'string' &&
      typeof value.user?.id === 'string';
    if (!valid) return null;
    delete value.v;
    return value as Credentials;
  } catch {
    return null;
  }
}
