import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AppService } from './apps/app-service.js';
import { SettingsSealer } from './apps/sealed-settings.js';
import { Authenticator } from './auth/authenticator.js';
import { ExternalUsers } from './auth/identities/external-users.js';
import { MasterKey } from './auth/keys/master-key.js';
import { SigningKeyService } from './auth/keys/signing-keys.js';
import { PasswordHasher } from './auth/passwords/index.js';
import { ReconnectTokens, SUCCESSOR_KEY_PURPOSE } from './auth/sessions/reconnect-tokens.js';
import { SessionCache } from './auth/sessions/session-cache.js';
import { SessionKillSwitch } from './auth/sessions/kill-switch.js';
import { SessionService } from './auth/sessions/session-service.js';
import { RevocationFeed } from './auth/sessions/revocations.js';
import { AccessTokenStrategy } from './auth/strategies/access-token/index.js';
import { AnonymousStrategy } from './auth/strategies/anonymous/index.js';
import { AnonymousUsers } from './users/anonymous-lifecycle.js';
import { AnonymousUpgrade } from './users/anonymous-upgrade.js';
import { GuestStrategy } from './auth/strategies/guest/index.js';
import { KeyStrategy } from './auth/strategies/key/index.js';
import { AuthTokenStrategy } from './auth/strategies/auth-token/index.js';
import { CustomStrategy } from './auth/strategies/custom/index.js';
import { JwtStrategy } from './auth/strategies/jwt/index.js';
import { LocalStrategy } from './auth/strategies/local/index.js';
import { OidcStrategy } from './auth/strategies/oidc/index.js';
import { ReconnectStrategy } from './auth/strategies/reconnect/index.js';
import { StrategyRegistry } from './auth/strategies/registry.js';
import { AccessTokenService } from './auth/tokens/access-tokens.js';
import { AuthTokenService } from './auth/tokens/auth-tokens.js';
import { ConfigError, type Config } from './config/index.js';
import { proxyTrust } from './config/proxy-trust.js';
import type { Services } from './services.js';
import { buildHttpServer } from './http/server.js';
import { ServingState } from './http/serving-state.js';
import { systemClock, type Clock } from './lib/clock.js';
import { runPeriodically, type PeriodicTask } from './lib/periodic.js';
import { realTime, TimerScheduler, type Scheduler, type Timeline } from './lib/scheduler.js';
import { createLogger } from './logger.js';
import { migrateToLatest, openStore, type Store } from './store/database.js';
import { createRepositories } from './store/repositories/index.js';
import { RealtimeGateway } from './realtime/gateway.js';
import { UserService } from './users/user-service.js';
import { openCluster } from './cluster/index.js';
import { LoginThrottle } from './auth/throttle/login-throttle.js';
import { AbuseLimiter } from './auth/limits/abuse-limiter.js';
import { UserMaintenance } from './users/maintenance.js';
import { Maintenance } from './maintenance.js';
import { AppEventLog } from './events/append.js';
import { EventWakeUps } from './events/wake-ups.js';
import { LiveEventReaders } from './events/live-readers.js';
import { EventStreams } from './events/stream.js';
import { EventRetention } from './events/retention.js';

export interface TesseraOptions {
  config: Readonly<Config>;
  clock?: Clock;
  /** Runs the realtime gateway's deadlines (token and session expiry); tests pass their ManualClock. */
  scheduler?: Scheduler;
  /** Real elapsed time for heartbeats (of sockets, and of the nodes of a cluster); tests pass a ManualClock of its own. */
  realTime?: Timeline;
  logger?: Logger;
}

/** A running Tessera: its services, its HTTP server, and how to stop it. */
export interface Tessera {
  readonly config: Readonly<Config>;
  readonly services: Services;
  readonly http: FastifyInstance;
  /** The WebSocket gateway at /v1/apps/{namespace}/{app}/realtime. */
  readonly realtime: RealtimeGateway;
  readonly logger: Logger;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /**
   * Shuts down gracefully (once; later calls share the first): /readyz answers 503 for
   * `shutdownDrainMs` while requests are still served, then the port closes, every realtime
   * socket closes with server_shutdown, requests in flight finish, and the services close.
   */
  close(): Promise<void>;
}

/** How often the server ends idle anonymous users, removes expired ones and forgets expired token ids. */
export const MAINTENANCE_INTERVAL_MS = 60_000;

/** During shutdown, how often connections whose last request has been answered are closed. */
const IDLE_SWEEP_MS = 50;

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Opens the database, applies pending migrations and wires every service, without HTTP.
 * The CLI uses this; `createTessera` builds the server on top of it.
 */
export async function openServices(
  {
    config,
    clock = systemClock,
    logger = createLogger(config.logLevel),
    realTime: timeline = realTime(),
  }: TesseraOptions,
  issuerBase?: () => string,
): Promise<Services> {
  const masterKey = loadMasterKey(config, logger);
  const store = openStore({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    deadlines: {
      connectMs: config.databaseConnectTimeoutMs,
      statementMs: config.databaseStatementTimeoutMs,
      pingMs: config.readinessTimeoutMs,
    },
  });
  try {
    await migrateToLatest(store);
  } catch (error) {
    await store.close();
    throw error;
  }
  const defaultIssuer = () => config.publicUrl?.replace(/\/$/, '') ?? `http://${config.host}:${config.port}`;
  const services = wireServices(store, masterKey, config, { clock, timeline }, issuerBase ?? defaultIssuer, logger);
  try {
    const sealed = await services.apps.sealPlaintextSecrets();
    if (sealed > 0)
      logger.info(
        { apps: sealed },
        'encrypted the secrets that app settings written by an older version held in clear',
      );
  } catch (error) {
    await closeServices(services);
    throw error;
  }
  return services;
}

/** Opens the services and builds the HTTP server. Does not listen yet. */
export async function createTessera(options: TesseraOptions): Promise<Tessera> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  let publicUrl = config.publicUrl?.replace(/\/$/, '');
  const services = await openServices(
    { ...options, logger },
    () => publicUrl ?? `http://${config.host}:${config.port}`,
  );
  const { store } = services;
  const state = new ServingState();
  const trustProxy = proxyTrust(config);
  const clock = options.clock ?? systemClock;
  const realtime = new RealtimeGateway({
    services,
    config: config.realtime,
    trustProxy,
    clock,
    scheduler: options.scheduler ?? new TimerScheduler(clock),
    realTime: options.realTime ?? realTime(),
    logger,
  });
  const http = await buildHttpServer(services, {
    logger,
    trustProxy,
    version: VERSION,
    state,
    liveConnections: realtime,
  });
  realtime.attach(http.server);
  let maintenance: PeriodicTask | undefined;
  let closing: Promise<void> | undefined;

  const shutdown = async () => {
    state.advance('draining');
    await maintenance?.stop();
    if (config.shutdownDrainMs > 0 && http.server.listening) {
      logger.info(
        { drainMs: config.shutdownDrainMs },
        'shutdown: draining; /readyz answers 503 while requests are still served',
      );
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs));
    }
    state.advance('closing');
    logger.info(
      { realtimeConnections: realtime.connections },
      'shutdown: closing the port; realtime sockets close with server_shutdown; requests in flight finish',
    );
    // Event streams never end by themselves: they end now, and their subscribers resume on another node.
    services.eventStreams.close();
    // The gateway refuses upgrades and sends every socket its close frame before the port closes.
    const sockets = realtime.close().then(() => logger.info('shutdown: realtime sockets closed'));
    // Node closes idle keep-alive connections only when the port closes: those whose request was in flight then go here.
    const idleSweep = setInterval(() => http.server.closeIdleConnections(), IDLE_SWEEP_MS);
    const requests = http.close().then(() => logger.info('shutdown: port closed and requests in flight answered'));
    await Promise.all([sockets, requests]).finally(() => clearInterval(idleSweep));
    await closeServices(services);
    logger.info('shutdown: database and cluster connections closed');
  };

  return {
    config,
    services,
    http,
    realtime,
    logger,
    async listen() {
      await http.listen({ host: config.host, port: config.port });
      maintenance ??= runPeriodically(
        () => services.maintenance.run(),
        MAINTENANCE_INTERVAL_MS,
        (error) => logger.error({ err: error }, 'user maintenance failed'),
      );
      const address = http.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      publicUrl ??= `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      logger.info({ url: publicUrl, database: store.location }, 'Tessera is listening');
      return publicUrl;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** Releases what the services hold: hashing threads, the Redis connections, the database pool. */
export async function closeServices(services: Services): Promise<void> {
  await services.passwords.close();
  services.eventStreams.close();
  services.eventWakeUps.close();
  await services.cluster.close();
  await services.store.close();
}

function wireServices(
  store: Store,
  masterKey: MasterKey,
  config: Readonly<Config>,
  { clock, timeline }: { clock: Clock; timeline: Timeline },
  issuerBase: () => string,
  logger: Logger,
): Services {
  const repositories = createRepositories(store.db, new SettingsSealer(masterKey));
  const passwords = new PasswordHasher({
    argon2: {
      memoryCost: config.passwords.memoryCost,
      timeCost: config.passwords.timeCost,
      parallelism: config.passwords.parallelism,
    },
    concurrency: config.passwords.concurrency ?? 1,
    maxQueue: config.passwords.maxQueue,
  });
  const { caches } = config;
  const cluster = openCluster(config, clock, logger);
  const eventWakeUps = new EventWakeUps(cluster.bus, logger);
  const events = new AppEventLog(eventWakeUps, clock);
  const signingKeys = new SigningKeyService(repositories.signingKeys, masterKey, clock, {
    maxApps: caches.apps,
    events: { repositories, log: events },
  });
  const accessTokens = new AccessTokenService(signingKeys, clock, issuerBase, caches.accessTokens, logger);
  const sessionCache = new SessionCache(clock, config.sessionCacheTtlMs, caches.sessions);
  const revocations = new RevocationFeed(cluster.bus, sessionCache, logger);
  const successorKey = masterKey.deriveKey(SUCCESSOR_KEY_PURPOSE);
  const eventReaders = new LiveEventReaders(repositories, eventWakeUps, {
    pollIntervalMs: config.events.pollIntervalMs,
    timeline,
    logger,
  });
  const eventStreams = new EventStreams(repositories, eventReaders, {
    retentionSeconds: config.events.retentionSeconds,
    maxStreamsPerApp: config.events.maxStreamsPerApp,
    timeline,
    logger,
  });
  const reconnectTokens = new ReconnectTokens(successorKey, repositories, clock, revocations, events);
  const sessions = new SessionService(
    repositories,
    accessTokens,
    reconnectTokens,
    sessionCache,
    clock,
    revocations,
    events,
  );
  const throttle = new LoginThrottle(cluster.ephemeral);
  const limits = new AbuseLimiter(cluster.ephemeral, clock, logger);
  const users = new UserService(repositories, passwords, sessions, clock, throttle, events);
  const appCache = {
    ttlMs: config.sessionCacheTtlMs,
    apps: caches.apps,
    apiKeys: caches.apiKeys,
    misses: caches.misses,
  };
  const apps = new AppService(repositories, signingKeys, clock, appCache, cluster.bus, logger);
  const anonymousUsers = new AnonymousUsers(repositories, sessions, clock);
  revocations.onRevoked(anonymousUsers.sessionsEnded);
  const authTokens = new AuthTokenService(repositories, sessions, clock);
  const killSwitch = new SessionKillSwitch(apps, sessions, cluster.bus, clock, logger);
  const externalUsers = new ExternalUsers(repositories, users, sessions, clock, logger);
  const strategies = new StrategyRegistry([
    new LocalStrategy(users, passwords, throttle),
    new ReconnectStrategy(reconnectTokens, limits),
    new AccessTokenStrategy(sessions),
    new AnonymousStrategy(users),
    new GuestStrategy(users, clock),
    new KeyStrategy({ mode: config.mode, apps, users: repositories.users, sessions, logger }),
    new AuthTokenStrategy(authTokens),
    new CustomStrategy({ externalUsers, logger }),
    new OidcStrategy({ externalUsers, clock, logger }),
    new JwtStrategy({ repositories, externalUsers, apps, clock, logger }),
  ]);
  const authenticator = new Authenticator(strategies, sessions, limits);
  const anonymousUpgrade = new AnonymousUpgrade(users, sessions);
  const userMaintenance = new UserMaintenance(repositories, anonymousUsers, sessions, clock);
  const retention = new EventRetention(repositories, clock, config.events.retentionSeconds);
  const maintenance = new Maintenance(userMaintenance, repositories, clock, retention);
  return {
    store,
    cluster,
    apps,
    users,
    sessions,
    reconnectTokens,
    revocations,
    signingKeys,
    authenticator,
    strategies,
    passwords,
    anonymousUsers,
    anonymousUpgrade,
    maintenance,
    authTokens,
    limits,
    killSwitch,
    events,
    eventWakeUps,
    eventStreams,
  };
}

function loadMasterKey(config: Readonly<Config>, logger: Logger): MasterKey {
  if (config.masterKey !== undefined) return MasterKey.fromBase64(config.masterKey);
  if (config.mode === 'production')
    throw new ConfigError(
      'masterKey (TESSERA_MASTER_KEY): required in production — 32 random bytes in base64 (openssl rand -base64 32)',
    );
  const { masterKey, created } = MasterKey.fromDataDir(config.dataDir);
  logger.warn(
    { dataDir: config.dataDir, created },
    'DEVELOPMENT: the master key that encrypts signing keys is kept in the data folder. Set TESSERA_MASTER_KEY and TESSERA_MODE=production for real use.',
  );
  return masterKey;
}
