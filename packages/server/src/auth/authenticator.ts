import type { AuthenticationResult } from '@tessera/protocol';
import { toIso } from '../lib/clock.js';
import type { AppRecord, UserRecord } from '../store/repositories/index.js';
import { presentUser } from '../users/presenter.js';
import type { AbuseLimiter } from './limits/abuse-limiter.js';
import type { ClientInfo, IssuedCredentials, SessionService } from './sessions/session-service.js';
import type { Identity, Strategy } from './strategies/contract.js';
import type { StrategyRegistry } from './strategies/registry.js';

/**
 * The login pipeline shared by every strategy and every transport: resolve the strategy,
 * let it prove an identity, then start (or continue) the session and issue its tokens.
 */
export class Authenticator {
  constructor(
    private readonly strategies: StrategyRegistry,
    private readonly sessions: SessionService,
    private readonly limiter: AbuseLimiter,
  ) {}

  async login(app: AppRecord, body: unknown, client: ClientInfo): Promise<AuthenticationResult> {
    const { strategy, input } = this.strategies.resolve(app, body);
    const identity = await this.prove(app, strategy, input, client);
    if (identity.resumes === undefined) return this.startSession(app, identity.user, strategy.name, client);
    const credentials = await this.sessions.issue(app, identity.user, identity.resumes, identity.renewal);
    return presentLogin(strategy.name, identity.user, credentials);
  }

  /** Runs the strategy within the abuse limits it declares, the same for every transport. */
  private async prove(app: AppRecord, strategy: Strategy, input: unknown, client: ClientInfo): Promise<Identity> {
    const limits = strategy.limits;
    const authenticate = () => strategy.authenticate(input, { app, client });
    if (limits === undefined) return authenticate();
    const caller = { app, ip: client.ip };
    // A refused guesser is turned away before it can spend anything else.
    if (limits.guesses === true) this.limiter.assertNotGuessing(caller, 'address-and-app');
    if (limits.attempts !== undefined)
      await this.limiter.consume(app, limits.attempts, client.ip, limits.tokenIdOf?.(input));
    return limits.guesses === true ? this.limiter.checked(caller, 'address-and-app', authenticate) : authenticate();
  }

  private async startSession(
    app: AppRecord,
    user: UserRecord,
    strategy: string,
    client: ClientInfo,
  ): Promise<AuthenticationResult> {
    this.sessions.assertUserActive(user);
    const credentials = await this.sessions.start(app, user, strategy, client);
    return presentLogin(strategy, user, credentials);
  }
}

/** A new session's tokens, answered as a login is (an upgrade answers so too). */
export function presentLogin(strategy: string, user: UserRecord, credentials: IssuedCredentials): AuthenticationResult {
  const { session } = credentials;
  return {
    accessToken: credentials.accessToken,
    reconnectToken: credentials.reconnectToken,
    authentication: {
      strategy,
      accessTokenExpiresAt: toIso(credentials.accessTokenExpiresAt),
      reconnectTokenExpiresAt: toIso(credentials.reconnectTokenExpiresAt),
    },
    session: { id: session.id, expiresAt: toIso(session.expiresAt), idleExpiresAt: toIso(session.idleExpiresAt) },
    user: presentUser(user),
  };
}
