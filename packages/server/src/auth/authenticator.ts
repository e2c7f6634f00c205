import type { AuthenticationResult } from '@tessera/protocol';
import { toIso } from '../lib/clock.js';
import type { AppRecord } from '../store/repositories/index.js';
import { presentUser } from '../users/presenter.js';
import type { UserService } from '../users/user-service.js';
import type { ClientInfo, SessionService } from './sessions/session-service.js';
import type { StrategyRegistry } from './strategies/registry.js';

/**
 * The login pipeline shared by every strategy and every transport: resolve the strategy,
 * let it prove an identity, then start (or continue) the session and issue its tokens.
 */
export class Authenticator {
  constructor(
    private readonly strategies: StrategyRegistry,
    private readonly sessions: SessionService,
    private readonly users: UserService,
  ) {}

  async login(app: AppRecord, body: unknown, client: ClientInfo): Promise<AuthenticationResult> {
    const { strategy, input } = this.strategies.resolve(app, body);
    const identity = await strategy.authenticate(input, { app, client });
    let credentials;
    if (identity.resumes === undefined) {
      this.sessions.assertUserActive(identity.user);
      credentials = await this.sessions.start(app, identity.user, strategy.name, client);
      await this.users.recordLogin(app, identity.user);
    } else {
      credentials = await this.sessions.issue(app, identity.user, identity.resumes, identity.redeemedReconnectTokenId);
    }
    const { session } = credentials;
    return {
      accessToken: credentials.accessToken,
      reconnectToken: credentials.reconnectToken,
      authentication: {
        strategy: strategy.name,
        accessTokenExpiresAt: toIso(credentials.accessTokenExpiresAt),
        reconnectTokenExpiresAt: toIso(credentials.reconnectTokenExpiresAt),
      },
      session: { id: session.id, expiresAt: toIso(session.expiresAt), idleExpiresAt: toIso(session.idleExpiresAt) },
      user: presentUser(identity.user),
    };
  }
}
