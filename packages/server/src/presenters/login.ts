import type { AuthenticationResult, Session } from '@tessera/protocol';
import type { LoginOutcome } from '../auth/authenticator.js';
import { toIso } from '../lib/clock.js';
import type { SessionRecord } from '../store/repositories/index.js';
import { presentUser } from './users.js';

/** A login's answer on REST (an upgrade answers so too): the new tokens, their session and user. */
export function presentLogin({ strategy, user, session, credentials }: LoginOutcome): AuthenticationResult {
  return {
    accessToken: credentials.accessToken,
    reconnectToken: credentials.reconnectToken,
    authentication: {
      strategy,
      accessTokenExpiresAt: toIso(credentials.accessTokenExpiresAt),
      reconnectTokenExpiresAt: toIso(credentials.reconnectTokenExpiresAt),
    },
    session: presentSessionTimes(session),
    user: presentUser(user),
  };
}

/** The session a login or a socket is bound to, as its answer names it: which one and until when. */
export function presentSessionTimes(session: SessionRecord): Pick<Session, 'id' | 'expiresAt' | 'idleExpiresAt'> {
  return { id: session.id, expiresAt: toIso(session.expiresAt), idleExpiresAt: toIso(session.idleExpiresAt) };
}
