import type { AppRecord, SessionRecord, UserRecord } from '../store/repositories/index.js';
import type { AbuseLimiter } from './limits/abuse-limiter.js';
import type { ClientInfo, IssuedCredentials, SessionService } from './sessions/session-service.js';
import type { Identity, Strategy } from './strategies/contract.js';
import type { StrategyRegistry } from './strategies/registry.js';

/** What a login (or an anonymous upgrade) comes to, as records: each transport presents it its own way. */
export interface LoginOutcome {
  /** The strategy that proved the identity (`upgrade` for an anonymous upgrade). */
  strategy: string;
  user: UserRecord;
  /** The session the new tokens hold (`credentials.session`). */
  session: SessionRecord;
  credentials: IssuedCredentials;
  /** True when the login continued an existing session rather than started one. */
  resumed: boolean;
}

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

  async login(app: AppRecord, body: unknown, client: ClientInfo): Promise<LoginOutcome> {
    const { strategy, input } = this.strategies.resolve(app, body);
    const { user, resumes, renewal } = await this.prove(app, strategy, input, client);
    if (resumes === undefined) return this.startSession(app, user, strategy.name, client);
    const credentials = await this.sessions.issue(app, user, resumes, renewal);
    return { strategy: strategy.name, user, session: credentials.session, credentials, resumed: true };
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
  ): Promise<LoginOutcome> {
    this.sessions.assertUserActive(user);
    const credentials = await this.sessions.start(app, user, strategy, client);
    return { strategy, user, session: credentials.session, credentials, resumed: false };
  }
}
