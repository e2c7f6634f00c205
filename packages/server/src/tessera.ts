import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AppService } from './apps/app-service.js';
import { Authenticator } from './auth/authenticator.js';
import { MasterKey } from './auth/keys/master-key.js';
import { SigningKeyService } from './auth/keys/signing-keys.js';
import { PasswordHasher } from './auth/passwords/index.js';
import { SessionCache } from './auth/sessions/session-cache.js';
import { SessionService } from './auth/sessions/session-service.js';
import { AccessTokenStrategy } from './auth/strategies/access-token/index.js';
import { LocalStrategy } from './auth/strategies/local/index.js';
import { ReconnectStrategy } from './auth/strategies/reconnect/index.js';
import { StrategyRegistry } from './auth/strategies/registry.js';
import { AccessTokenService } from './auth/tokens/access-tokens.js';
import { ConfigError, type Config } from './config/index.js';
import type { Services } from './http/context.js';
import { buildHttpServer } from './http/server.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger } from './logger.js';
import { migrateToLatest, openStore, type Store } from './store/database.js';
import { createRepositories } from './store/repositories/index.js';
import { UserService } from './users/user-service.js';

export interface TesseraOptions {
  config: Readonly<Config>;
  clock?: Clock;
  logger?: Logger;
}

/** A running Tessera: its services, its HTTP server, and how to stop it. */
export interface Tessera {
  readonly config: Readonly<Config>;
  readonly services: Services;
  readonly http: FastifyInstance;
  readonly logger: Logger;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Opens the database, applies pending migrations and wires every service, without HTTP.
 * The CLI uses this; `createTessera` builds the server on top of it.
 */
export async function openServices({ config, clock = systemClock, logger = createLogger(config.logLevel) }: TesseraOptions, issuerBase?: () => string): Promise<Services> {
  const masterKey = loadMasterKey(config, logger);
  const store = openStore({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(store.db);
  } catch (error) {
    await store.close();
    throw error;
  }
  const defaultIssuer = () => config.publicUrl?.replace(/\/$/, '') ?? `http://${config.host}:${config.port}`;
  return wireServices(store, masterKey, config, clock, issuerBase ?? defaultIssuer);
}

/** Opens the services and builds the HTTP server. Does not listen yet. */
export async function createTessera(options: TesseraOptions): Promise<Tessera> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  let publicUrl = config.publicUrl?.replace(/\/$/, '');
  const services = await openServices({ ...options, logger }, () => publicUrl ?? `http://${config.host}:${config.port}`);
  const { store } = services;
  const http = await buildHttpServer(services, { logger, trustProxy: config.trustProxy, version: VERSION });

  return {
    config,
    services,
    http,
    logger,
    async listen() {
      await http.listen({ host: config.host, port: config.port });
      const address = http.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      publicUrl ??= `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      logger.info({ url: publicUrl, database: store.location }, 'Tessera is listening');
      return publicUrl;
    },
    async close() {
      await http.close();
      await store.close();
    },
  };
}

function wireServices(store: Store, masterKey: MasterKey, config: Readonly<Config>, clock: Clock, issuerBase: () => string): Services {
  const repositories = createRepositories(store.db);
  const passwords = new PasswordHasher({
    argon2: { memoryCost: config.passwords.memoryCost, timeCost: config.passwords.timeCost, parallelism: config.passwords.parallelism },
    concurrency: config.passwords.concurrency ?? 1,
    maxQueue: config.passwords.maxQueue,
  });
  const signingKeys = new SigningKeyService(repositories.signingKeys, masterKey, clock);
  const accessTokens = new AccessTokenService(signingKeys, clock, issuerBase);
  const sessions = new SessionService(repositories, accessTokens, new SessionCache(config.sessionCacheTtlMs), clock);
  const users = new UserService(repositories, passwords, sessions, clock);
  const apps = new AppService(repositories, signingKeys, clock, config.sessionCacheTtlMs);
  const strategies = new StrategyRegistry([new LocalStrategy(users, passwords), new ReconnectStrategy(sessions), new AccessTokenStrategy(sessions)]);
  const authenticator = new Authenticator(strategies, sessions, users);
  return { store, apps, users, sessions, signingKeys, authenticator, strategies, passwords };
}

function loadMasterKey(config: Readonly<Config>, logger: Logger): MasterKey {
  if (config.masterKey !== undefined) return MasterKey.fromBase64(config.masterKey);
  if (config.mode === 'production') throw new ConfigError('masterKey (TESSERA_MASTER_KEY): required in production — 32 random bytes in base64 (openssl rand -base64 32)');
  const { masterKey, created } = MasterKey.fromDataDir(config.dataDir);
  logger.warn(
    { dataDir: config.dataDir, created },
    'DEVELOPMENT: the master key that encrypts signing keys is kept in the data folder. Set TESSERA_MASTER_KEY and TESSERA_MODE=production for real use.',
  );
  return masterKey;
}
