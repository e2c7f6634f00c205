import type { AuthenticateFrame, RefreshFrame } from '@tessera/protocol';
import { decodeJwt } from 'jose';
import type { LoginOutcome } from '../auth/authenticator.js';
import type { ClientInfo, SessionService } from '../auth/sessions/session-service.js';
import { TesseraError } from '../errors.js';
import type { Services } from '../services.js';
import type { AppRecord, SessionRecord, UserRecord } from '../store/repositories/index.js';

/** What the gateway needs of the server's services. */
export type GatewayServices = Pick<
  Services,
  | 'apps'
  | 'sessions'
  | 'reconnectTokens'
  | 'revocations'
  | 'authenticator'
  | 'strategies'
  | 'anonymousUsers'
  | 'cluster'
  | 'limits'
  | 'killSwitch'
>;

/** Who an authenticated connection is: its user, its session and the access token that holds it. */
export interface Binding {
  user: UserRecord;
  session: SessionRecord;
  accessToken: string;
  accessExpiresAt: number;
  /** The strategy that proved the identity. */
  strategy: string;
}

export interface BindResult {
  binding: Binding;
  /** The login that issued new tokens, when the frame logged in or spent a reconnect token. */
  login?: LoginOutcome;
}

/** The connection's binding to the session a login just started or continued: its records, not a re-read. */
function bindingOf(login: LoginOutcome): Binding {
  return {
    user: login.user,
    session: login.session,
    accessToken: login.credentials.accessToken,
    accessExpiresAt: login.credentials.accessTokenExpiresAt,
    strategy: login.strategy,
  };
}

/** Binds a connection to a still-valid access token the client holds: the checks of every authenticated REST call. */
export async function bindAccessToken(sessions: SessionService, app: AppRecord, accessToken: string): Promise<Binding> {
  const context = await sessions.authenticate(app, accessToken);
  return {
    user: context.user,
    session: context.session,
    accessToken,
    accessExpiresAt: context.claims.exp * 1000,
    strategy: 'access-token',
  };
}

/** `bindAccessToken` for a token the client presents (at the upgrade, in a refresh): a forged one counts as a guess, as on REST. */
export async function bindPresentedToken(
  services: GatewayServices,
  app: AppRecord,
  accessToken: string,
  client: ClientInfo,
): Promise<Binding> {
  return services.limits.checked({ app, ip: client.ip }, 'address', () =>
    bindAccessToken(services.sessions, app, accessToken),
  );
}

/**
 * An `authenticate` frame: the app's key as for `POST …/authentication`, then the very same
 * login pipeline (any enabled strategy), whose outcome the connection is bound to.
 */
export async function loginByFrame(
  services: GatewayServices,
  app: AppRecord,
  frame: AuthenticateFrame,
  apiKey: string | undefined,
  client: ClientInfo,
): Promise<BindResult> {
  if (apiKey === undefined) {
    throw new TesseraError('missing_credentials', {
      message: "Send the app's publishable key at the upgrade: the X-Tessera-Key header or ?key=pk_…",
    });
  }
  await services.limits.checked({ app, ip: client.ip }, 'address', () => services.apps.authenticateKey(app, apiKey));
  const login = await services.authenticator.login(app, loginBodyOf(frame), client);
  return { binding: bindingOf(login), login };
}

/**
 * The user an `authenticate` frame will resume, when that can be known without spending
 * anything: so that a connection over the user's limit is refused before its reconnect token
 * is rotated away. Undefined when unknown (a login that starts a new session).
 */
export function resumedUserOf(
  services: GatewayServices,
  app: AppRecord,
  frame: AuthenticateFrame,
  client: ClientInfo,
): Promise<string | undefined> {
  return services.strategies.peekResumedUser(loginBodyOf(frame), { app, client });
}

/** Ends the session a refused login just started; a resumed session is left alone. */
export async function discardNewSession(sessions: SessionService, { login }: BindResult): Promise<void> {
  if (login === undefined || login.resumed) return;
  await sessions.revoke(login.user, login.session.id, 'revoked');
}

/**
 * A `refresh` frame: new credentials for the same user of the same app. A reconnect token is
 * spent through the login pipeline (and rotated); an access token is checked as on REST. A
 * token of another user or app is refused with identity_mismatch before anything is spent.
 */
export async function refreshBinding(
  services: GatewayServices,
  app: AppRecord,
  current: Binding,
  frame: RefreshFrame,
  client: ClientInfo,
): Promise<BindResult> {
  if ('reconnectToken' in frame) {
    // A refused guesser is turned away before its token is even looked up.
    services.limits.assertNotGuessing({ app, ip: client.ip }, 'address-and-app');
    const owner = await services.reconnectTokens.ownerOf(frame.reconnectToken);
    if (owner !== undefined && (owner.appId !== app.id || owner.userId !== current.user.id))
      throw mismatch(owner.appId !== app.id);
    const login = await services.authenticator.login(
      app,
      { strategy: 'reconnect', token: frame.reconnectToken },
      client,
    );
    if (login.user.id !== current.user.id) throw mismatch(false);
    return { binding: bindingOf(login), login };
  }
  // Another app's token cannot be verified with this app's keys: its audience says whose it is.
  // A forged audience only closes the connection of the client that sent it.
  const audience = unverifiedClaims(frame.accessToken)?.aud;
  if (audience !== undefined && ![audience].flat().includes(app.path)) throw mismatch(true);
  const binding = await bindPresentedToken(services, app, frame.accessToken, client);
  if (binding.user.id !== current.user.id) throw mismatch(false);
  return { binding };
}

/** The frame without its envelope (`type`, `id`): what `POST …/authentication` would receive. */
function loginBodyOf(frame: AuthenticateFrame): Record<string, unknown> {
  const body: Record<string, unknown> = { ...frame };
  delete body.type;
  delete body.id;
  return body;
}

function mismatch(otherApp: boolean): TesseraError {
  return new TesseraError('identity_mismatch', { details: { reason: otherApp ? 'other_app' : 'other_user' } });
}

function unverifiedClaims(token: string): { aud?: string | string[] } | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}
