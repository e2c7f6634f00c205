import type { Introspection } from '@tessera/protocol';
import type { AuthContext } from '../auth/sessions/session-service.js';

/** RFC 7662 §2.2: an unusable token says only that, never why. */
export const INACTIVE: Introspection = { active: false };

/** An active access token as introspection answers it: the token's claims, with the user as it is now. */
export function presentIntrospection({ app, user, claims }: AuthContext): Introspection {
  const { roles, tags, customData } = claims;
  return {
    active: true,
    token_type: 'Bearer',
    client_id: app.path,
    ...(user.username === null ? {} : { username: user.username }),
    sub: claims.sub,
    sid: claims.sid,
    kind: user.kind,
    exp: claims.exp,
    iat: claims.iat,
    iss: claims.iss,
    aud: claims.aud,
    jti: claims.jti,
    ...(roles === undefined ? {} : { roles }),
    ...(tags === undefined ? {} : { tags }),
    ...(customData === undefined ? {} : { customData }),
  };
}
