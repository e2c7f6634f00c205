import type { AuthenticatedFrame, FrameId, RealtimeAuthentication, RefreshedFrame } from '@tessera/protocol';
import { toIso } from '../lib/clock.js';
import { presentSessionTimes } from '../presenters/login.js';
import { presentUser } from '../presenters/users.js';
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

function bindingFields({ binding, login }: BindResult): Omit<RefreshedFrame, 'type' | 'id'> {
  const authentication: RealtimeAuthentication = {
    strategy: binding.strategy,
    accessTokenExpiresAt: toIso(binding.accessExpiresAt),
  };
  if (login === undefined)
    return { user: presentUser(binding.user), session: presentSessionTimes(binding.session), authentication };
  const { credentials } = login;
  authentication.reconnectTokenExpiresAt = toIso(credentials.reconnectTokenExpiresAt);
  return {
    user: presentUser(binding.user),
    session: presentSessionTimes(binding.session),
    authentication,
    accessToken: credentials.accessToken,
    reconnectToken: credentials.reconnectToken,
  };
}
