import type { Cluster } from './cluster/index.js';
import type { Authenticator } from './auth/authenticator.js';
import type { SessionService } from './auth/sessions/session-service.js';
import type { ReconnectTokens } from './auth/sessions/reconnect-tokens.js';
import type { RevocationFeed } from './auth/sessions/revocations.js';
import type { SigningKeyService } from './auth/keys/signing-keys.js';
import type { AppService } from './apps/app-service.js';
import type { UserService } from './users/user-service.js';
import type { Store } from './store/database.js';
import type { PasswordHasher } from './auth/passwords/index.js';
import type { StrategyRegistry } from './auth/strategies/registry.js';
import type { AnonymousUsers } from './users/anonymous-lifecycle.js';
import type { AnonymousUpgrade } from './users/anonymous-upgrade.js';
import type { Maintenance } from './maintenance.js';
import type { AuthTokenService } from './auth/tokens/auth-tokens.js';
import type { AbuseLimiter } from './auth/limits/abuse-limiter.js';
import type { SessionKillSwitch } from './auth/sessions/kill-switch.js';
import type { AppEventLog } from './events/append.js';
import type { EventWakeUps } from './events/wake-ups.js';
import type { EventStreams } from './events/stream.js';

/** Every service of a running server, wired once by `wireServices`. Transports (HTTP, realtime, CLI) take the part they use. */
export interface Services {
  store: Store;
  /** State the nodes share: this process's memory, or Redis when configured. */
  cluster: Cluster;
  apps: AppService;
  users: UserService;
  sessions: SessionService;
  /** The reconnect-token chain of sessions: check, rotation and reuse. */
  reconnectTokens: ReconnectTokens;
  /** Ended sessions and changed users, told to every node and to the listeners. */
  revocations: RevocationFeed;
  signingKeys: SigningKeyService;
  authenticator: Authenticator;
  strategies: StrategyRegistry;
  passwords: PasswordHasher;
  /** Ends anonymous users (the realtime gateway calls it when the last connection closes). */
  anonymousUsers: AnonymousUsers;
  anonymousUpgrade: AnonymousUpgrade;
  /** The periodic upkeep of ephemeral users and used token ids; the server runs it, tests call it. */
  maintenance: Maintenance;
  authTokens: AuthTokenService;
  /** Abuse limits of unauthenticated writes and credential guesses, for REST and realtime alike. */
  limits: AbuseLimiter;
  /** The app-wide "end every session started before T" after a breach. */
  killSwitch: SessionKillSwitch;
  /** The app event log: appends events in the transaction of the change they record. */
  events: AppEventLog;
  /** What wakes the event streams' readers: commits on this node and, over the bus, on the others. */
  eventWakeUps: EventWakeUps;
  /** The app event streams open on this node, with the per-app readers that feed them. */
  eventStreams: EventStreams;
}

/** Live realtime connections per session (the realtime gateway, from its cluster-wide presence view). */
export interface LiveConnections {
  connectionsBySession(appId: string, userId: string): ReadonlyMap<string, number>;
}
