import type { Logger } from 'pino';
import { AppEventLog } from '../../src/events/append.js';
import { EventWakeUps } from '../../src/events/wake-ups.js';
import { AppService } from '../../src/apps/app-service.js';
import { SettingsSealer } from '../../src/apps/sealed-settings.js';
import { MasterKey } from '../../src/auth/keys/master-key.js';
import { SigningKeyService } from '../../src/auth/keys/signing-keys.js';
import { ReconnectTokens, SUCCESSOR_KEY_PURPOSE } from '../../src/auth/sessions/reconnect-tokens.js';
import { RevocationFeed } from '../../src/auth/sessions/revocations.js';
import { SessionCache } from '../../src/auth/sessions/session-cache.js';
import { SessionService } from '../../src/auth/sessions/session-service.js';
import { AccessTokenService } from '../../src/auth/tokens/access-tokens.js';
import type { ClusterBus } from '../../src/cluster/index.js';
import { MemoryBus } from '../../src/cluster/memory-bus.js';
import { ManualClock } from '../../src/lib/clock.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { createLogger } from '../../src/logger.js';
import { migrateToLatest, openStore, type Store } from '../../src/store/database.js';
import {
  createRepositories,
  type AppRecord,
  type Repositories,
  type UserRecord,
} from '../../src/store/repositories/index.js';
import type { Backend } from './backends.js';
import { TEST_MASTER_KEY } from './server.js';

/** The session modules wired as `wireServices` does, over a real database and a ManualClock, without HTTP. */
export interface SessionParts {
  store: Store;
  repositories: Repositories;
  clock: ManualClock;
  bus: ClusterBus;
  cache: SessionCache;
  revocations: RevocationFeed;
  reconnectTokens: ReconnectTokens;
  sessions: SessionService;
  app: AppRecord;
  /** A new registered user of `app`. */
  newUser(): Promise<UserRecord>;
  close(): Promise<void>;
}

export interface SessionPartsOptions {
  /** App settings (e.g. `{ reconnectGracePeriod: 10 }`). */
  settings?: Record<string, unknown>;
  cacheTtlMs?: number;
  logger?: Logger;
}

const silent = createLogger('silent');

export async function openSessionParts(backend: Backend, options: SessionPartsOptions = {}): Promise<SessionParts> {
  const { databaseUrl, dataDir, dispose } = await backend.provision();
  const store = openStore({ url: databaseUrl, dataDir });
  await migrateToLatest(store);
  const masterKey = MasterKey.fromBase64(TEST_MASTER_KEY);
  const repositories = createRepositories(store.db, new SettingsSealer(masterKey));
  const clock = new ManualClock();
  const logger = options.logger ?? silent;
  const bus = new MemoryBus('node-a', (error) => logger.error({ err: error }, 'handler failed'));
  const signingKeys = new SigningKeyService(repositories.signingKeys, masterKey, clock);
  const accessTokens = new AccessTokenService(signingKeys, clock, () => 'http://tessera.test');
  const cache = new SessionCache(clock, options.cacheTtlMs ?? 2000);
  const revocations = new RevocationFeed(bus, cache, logger);
  const successorKey = masterKey.deriveKey(SUCCESSOR_KEY_PURPOSE);
  const events = new AppEventLog(new EventWakeUps(bus, logger), clock);
  const reconnectTokens = new ReconnectTokens(successorKey, repositories, clock, revocations, events);
  const sessions = new SessionService(repositories, accessTokens, reconnectTokens, cache, clock, revocations, events);
  const limits = { ttlMs: 2000, apps: 10, apiKeys: 10, misses: 10 };
  const apps = new AppService(repositories, signingKeys, clock, limits, bus, logger);
  await apps.createNamespace('unit');
  const app = await apps.createApp('unit', 'sessions', options.settings ?? {});
  let users = 0;
  return {
    store,
    repositories,
    clock,
    bus,
    cache,
    revocations,
    reconnectTokens,
    sessions,
    app,
    newUser: () => {
      users += 1;
      const now = clock.now();
      return repositories.users.insert({
        id: uuidv7(now),
        app_id: app.id,
        kind: 'registered',
        username: `user${users}`,
        username_key: `user${users}`,
        email: null,
        email_key: null,
        full_name: null,
        phone: null,
        website: null,
        avatar_url: null,
        tags: '[]',
        custom_data: null,
        roles: '[]',
        password_hash: null,
        created_at: now,
        updated_at: now,
        last_login_at: null,
        disabled_at: null,
        ended_at: null,
        expires_at: null,
      });
    },
    async close() {
      await bus.close();
      await store.close();
      await dispose();
    },
  };
}
