import type { Cluster } from '../cluster/index.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { SessionService, AuthContext } from '../auth/sessions/session-service.js';
import type { SigningKeyService } from '../auth/keys/signing-keys.js';
import type { AppService } from '../apps/app-service.js';
import type { UserService } from '../users/user-service.js';
import type { Store } from '../store/database.js';
import type { AdminTokenRecord, ApiKeyRecord, AppRecord } from '../store/repositories/index.js';
import type { PasswordHasher } from '../auth/passwords/index.js';
import type { StrategyRegistry } from '../auth/strategies/registry.js';
import type { AnonymousUsers } from '../auth/strategies/anonymous/lifecycle.js';
import type { AnonymousUpgrade } from '../auth/strategies/anonymous/upgrade.js';
import type { UserMaintenance } from '../users/maintenance.js';
import type { AuthTokenService } from '../auth/tokens/auth-tokens.js';
import type { AbuseLimiter } from '../auth/limits/abuse-limiter.js';
import type { SessionKillSwitch } from '../auth/sessions/kill-switch.js';

/** The services the HTTP layer calls. Routes never reach the database directly. */
export interface Services {
  store: Store;
  /** State the nodes share: this process's memory, or Redis when configured. */
  cluster: Cluster;
  apps: AppService;
  users: UserService;
  sessions: SessionService;
  signingKeys: SigningKeyService;
  authenticator: Authenticator;
  strategies: StrategyRegistry;
  passwords: PasswordHasher;
  /** Ends anonymous users (the realtime gateway calls it when the last connection closes). */
  anonymousUsers: AnonymousUsers;
  anonymousUpgrade: AnonymousUpgrade;
  /** The periodic upkeep of ephemeral users; the server runs it, tests call it. */
  maintenance: UserMaintenance;
  authTokens: AuthTokenService;
  /** Abuse limits of unauthenticated writes and credential guesses, for REST and realtime alike. */
  limits: AbuseLimiter;
  /** The app-wide "end every session started before T" after a breach. */
  killSwitch: SessionKillSwitch;
}

/** Live realtime connections per session (the realtime gateway, from its cluster-wide presence view). */
export interface LiveConnections {
  connectionsBySession(appId: string, userId: string): ReadonlyMap<string, number>;
}

/** What the request hooks learned about the caller. */
export interface RequestAuth {
  app: AppRecord | null;
  key: ApiKeyRecord | null;
  user: AuthContext | null;
  admin: AdminTokenRecord | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    tessera: RequestAuth;
  }
}
