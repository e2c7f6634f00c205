/**
 * `@tessera/verifier/feathers`: a Feathers v5 authentication strategy for Tessera access tokens,
 * which logs out the real-time connections of sessions that end.
 */
import type { IncomingMessage } from 'node:http';
import {
  AuthenticationBaseStrategy,
  type AuthenticationBase,
  type AuthenticationParams,
  type AuthenticationRequest,
  type AuthenticationResult,
  type ConnectionEvent,
} from '@feathersjs/authentication';
import { GeneralError, NotAuthenticated, Unavailable, type FeathersError } from '@feathersjs/errors';
import type { RealTimeConnection } from '@feathersjs/feathers';
import { VerifierError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { Revocation } from '../revocation.js';
import type { Verifier } from '../verifier.js';
import { asVerifierError, ConnectionIndex } from './common.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** What `authenticate` answers, as the connection events see it. */
interface TesseraResult {
  accessToken: string;
  authentication?: { strategy?: string };
  principal?: Principal;
}

/**
 * Feathers' authentication strategy for Tessera access tokens: register it on the
 * `AuthenticationService` (as `'tessera'`) and guard services with `authenticate('tessera')`.
 *
 * It accepts `{ strategy: 'tessera', accessToken }` (`app.authenticate(…)` of
 * `@feathersjs/authentication-client`, over REST or Socket.io) and, on every request, the
 * `Authorization: Bearer <token>` header (over REST, and at a Socket.io handshake). The result
 * has the verified `principal`, which services find in `params.principal`. Refusals are Feathers
 * errors with Tessera's code in `data.code`: `NotAuthenticated` (401: `invalid_token`,
 * `token_expired`, `session_revoked`, `user_disabled`, `missing_credentials`) or `Unavailable` (503).
 *
 * When the verifier hears that a session ended, each real-time connection logged in with it is
 * logged out as Feathers logs a connection out: its authentication is removed, so its next calls
 * to guarded services fail with `NotAuthenticated`, and the app emits `'logout'` for it (the
 * result has the `principal` and the `revocation`), which removes it from every channel.
 *
 * The `AuthenticationService` still wants a `secret` in its configuration; it is never used for
 * Tessera's tokens. Set `entity: null`. With `@feathersjs/authentication-client`, set
 * `jwtStrategy: 'tessera'` so that it re-authenticates a reconnected socket with this strategy.
 *
 * @example
 * ```ts
 * import { AuthenticationService, authenticate } from '@feathersjs/authentication';
 * import { createVerifier } from '@tessera/verifier';
 * import { TesseraStrategy } from '@tessera/verifier/feathers';
 *
 * const verifier = createVerifier({ url: 'http://127.0.0.1:3000', app: 'demo/chat' });
 * app.set('authentication', { secret: 'unused-but-required', entity: null, authStrategies: ['tessera'] });
 * const authentication = new AuthenticationService(app);
 * authentication.register('tessera', new TesseraStrategy(verifier));
 * app.use('authentication', authentication);
 * app.service('messages').hooks({ before: { all: [authenticate('tessera')] } });
 * ```
 */
export class TesseraStrategy extends AuthenticationBaseStrategy {
  private readonly index = new ConnectionIndex<RealTimeConnection>();
  private readonly principals = new WeakMap<RealTimeConnection, Principal>();
  private stopListening: (() => void) | undefined;

  constructor(private readonly verifier: Verifier) {
    super();
  }

  /**
   * Called by the AuthenticationService: starts logging out the connections of ended sessions.
   *
   * @example
   * ```ts
   * await app.setup(); // the AuthenticationService sets its strategies up
   * ```
   */
  async setup(_authentication?: AuthenticationBase, _name?: string): Promise<void> {
    this.stopListening ??= this.verifier.onRevoked((revocation) => this.logOutEnded(revocation));
    await Promise.resolve();
  }

  /**
   * Stops logging out connections on revocations; call it when the app stops.
   *
   * @example
   * ```ts
   * strategy.close();
   * ```
   */
  close(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /**
   * The principal of `{ strategy: 'tessera', accessToken }`, or a Feathers error with Tessera's code.
   *
   * @example
   * ```ts
   * const { principal } = await app.service('authentication').create({ strategy: 'tessera', accessToken });
   * ```
   */
  async authenticate(
    authentication: AuthenticationRequest,
    _params: AuthenticationParams,
  ): Promise<AuthenticationResult> {
    const accessToken: unknown = authentication.accessToken;
    try {
      if (accessToken !== undefined && typeof accessToken !== 'string')
        throw new VerifierError('invalid_token', { message: 'accessToken must be a string.' });
      const principal = await this.verifier.verify(accessToken ?? '');
      return { accessToken, authentication: { strategy: this.name, accessToken }, principal };
    } catch (error) {
      throw feathersErrorOf(asVerifierError(error));
    }
  }

  /**
   * The authentication request of an `Authorization: Bearer` header, or `null` without one.
   *
   * @example
   * ```ts
   * await strategy.parse(request); // { strategy: 'tessera', accessToken: 'eyJ…' }
   * ```
   */
  async parse(request: IncomingMessage): Promise<AuthenticationRequest | null> {
    const authorization = request.headers.authorization;
    const accessToken = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
    return Promise.resolve(accessToken === undefined ? null : { strategy: this.name, accessToken });
  }

  /**
   * Keeps the real-time connections logged in with this strategy, by session and user, until they
   * log out or disconnect.
   *
   * @example
   * ```ts
   * await strategy.handleConnection('login', connection, authResult);
   * ```
   */
  async handleConnection(
    event: ConnectionEvent,
    connection: RealTimeConnection,
    authResult?: AuthenticationResult,
  ): Promise<void> {
    const result = authResult as TesseraResult | undefined;
    if (event === 'login' && result?.principal !== undefined && result.authentication?.strategy === this.name) {
      this.forget(connection);
      connection.authentication = { strategy: this.name, accessToken: result.accessToken };
      this.principals.set(connection, result.principal);
      this.index.add(connection, result.principal);
    } else if (event === 'disconnect' || (event === 'logout' && this.holds(connection, result))) {
      this.forget(connection);
      if (event === 'logout') delete connection.authentication;
    }
    await Promise.resolve();
  }

  /** How many real-time connections are logged in with this strategy. */
  get connections(): number {
    return this.index.size;
  }

  /** Whether `authResult` is the connection's current authentication with this strategy. */
  private holds(connection: RealTimeConnection, authResult: TesseraResult | undefined): boolean {
    const current = connection.authentication as { strategy?: string; accessToken?: string } | undefined;
    return current !== undefined && current.strategy === this.name && current.accessToken === authResult?.accessToken;
  }

  private forget(connection: RealTimeConnection): void {
    const principal = this.principals.get(connection);
    if (principal === undefined) return;
    this.principals.delete(connection);
    this.index.remove(connection, principal);
  }

  /** Logs out each connection of an ended session, as Feathers' own logout does. */
  private logOutEnded(revocation: Revocation): void {
    for (const connection of this.index.ended(revocation)) {
      const principal = this.principals.get(connection);
      const authentication = connection.authentication as { accessToken?: string } | undefined;
      this.forget(connection);
      delete connection.authentication;
      const result = { accessToken: authentication?.accessToken, authentication, principal, revocation };
      this.app?.emit('logout', result, { provider: connection.provider as string | undefined, connection });
    }
  }
}

/** A refusal as the Feathers error of its status, with Tessera's code in `data`. */
function feathersErrorOf(error: VerifierError): FeathersError {
  const data = { code: error.code };
  if (error.status === 401) return new NotAuthenticated(error.message, data);
  if (error.status === 503) return new Unavailable(error.message, data);
  return new GeneralError(error.message, data);
}
