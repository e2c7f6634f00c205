import type { AuthenticatedFrame, FrameId, RealtimeAuthentication, RefreshedFrame, Session } from '@tessera/protocol';
import { toIso } from '../lib/clock.js';
import type { SessionRecord } from '../store/repositories/index.js';
import { presentUser } from '../users/presenter.js';
import type { BindResult } from './in-band-auth.js';

/** The answer to a successful authentication; the new tokens when the frame logged in. */
export function authenticatedFrame(
  connectionId: string,
  result: BindResult,
  id: FrameId | undefined,
): AuthenticatedFrame {
  return { type: 'authenticated', ...(id === undefined ? {} : { id }), connectionId, ...bindingFields(result) };
}

/** The answer to a successful refresh; the new tokens when a reconnect token was spent. */
export function refreshedFrame(result: BindResult, id: FrameId | undefined): RefreshedFrame {
  return { type: 'refreshed', ...(id === undefined ? {} : { id }), ...bindingFields(result) };
}

function bindingFields({ binding, issued }: BindResult): Omit<RefreshedFrame, 'type' | 'id'> {
  const authentication: RealtimeAuthentication = {
    strategy: binding.strategy,
    accessTokenExpiresAt: toIso(binding.accessExpiresAt),
  };
  if (issued === undefined)
    return { user: presentUser(binding.user), session: sessionSummary(binding.session), authentication };
  authentication.reconnectTokenExpiresAt = issued.authentication.reconnectTokenExpiresAt;
  return {
    user: presentUser(binding.user),
    session: sessionSummary(binding.session),
    authentication,
    accessToken: issued.accessToken,
    reconnectToken: issued.reconnectToken,
  };
}

function sessionSummary(session: SessionRecord): Pick<Session, 'id' | 'expiresAt' | 'idleExpiresAt'> {
  return { id: session.id, expiresAt: toIso(session.expiresAt), idleExpiresAt: toIso(session.idleExpiresAt) };
}
