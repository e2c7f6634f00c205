/**
 * Socket.io and Tessera's sessions: a socket connects only with a valid access token of the app
 * (`socket.handshake.auth.token`), carries its principal in `socket.data.principal`, and is
 * disconnected (after a `tessera:session_ended` event saying why) as soon as the verifier hears
 * that its session ended: a logout elsewhere, "log out everywhere", the user disabled.
 *
 * This is the contract of `@tessera/verifier/socket.io`, written here against the verifier's
 * public `verify` and `onRevoked` until that integration is published.
 */
import type { Principal, Revocation, Verifier } from '@tessera/verifier';
import { VerifierError } from '@tessera/verifier';
import type { Server, Socket } from 'socket.io';

/** The event a socket gets just before the server disconnects it because its session ended. */
export const SESSION_ENDED_EVENT = 'tessera:session_ended';

export interface GuardedSocketData {
  principal: Principal;
}

/** The principal of a socket that passed the guard. */
export function principalOf(socket: Socket): Principal {
  return (socket.data as GuardedSocketData).principal;
}

/**
 * Installs the guard on `io`: the middleware that verifies each handshake's token, and the
 * listener that disconnects the sockets of ended sessions. Returns the call that removes the listener.
 */
export function guardSessions(io: Server, verifier: Verifier): () => void {
  io.use((socket, next) => {
    const token: unknown = (socket.handshake.auth as { token?: unknown }).token;
    verifier.verify(typeof token === 'string' ? token : '').then(
      (principal) => {
        (socket.data as GuardedSocketData).principal = principal;
        next();
      },
      (error: unknown) => next(refusal(error)),
    );
  });
  return verifier.onRevoked((revocation) => {
    for (const socket of io.of('/').sockets.values())
      if (ends(revocation, principalOf(socket))) cut(socket, revocation);
  });
}

function ends(revocation: Revocation, principal: Principal | undefined): boolean {
  if (principal === undefined || principal.userId !== revocation.userId) return false;
  return revocation.sessionId === undefined || revocation.sessionId === principal.sessionId;
}

function cut(socket: Socket, revocation: Revocation): void {
  socket.emit(SESSION_ENDED_EVENT, { code: revocation.code });
  socket.disconnect(true);
}

/** What socket.io-client sees as `connect_error`: Tessera's code and message in `data`. */
function refusal(error: unknown): Error {
  const verifierError =
    error instanceof VerifierError
      ? error
      : new VerifierError('unavailable', { message: 'The token could not be checked.' });
  return Object.assign(new Error(verifierError.message), {
    data: { code: verifierError.code, message: verifierError.message },
  });
}
