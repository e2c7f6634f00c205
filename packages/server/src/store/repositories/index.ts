import type { Kysely } from 'kysely';
import type { SettingsSealer } from '../../apps/sealed-settings.js';
import type { Database } from '../schema.js';
import { ApiKeysRepository } from './api-keys.js';
import { AppEventsRepository } from './app-events.js';
import { AppsRepository } from './apps.js';
import { EphemeralUsersRepository } from './ephemeral-users.js';
import { AuthTokensRepository } from './auth-tokens.js';
import { SessionsRepository } from './sessions.js';
import { SigningKeysRepository } from './signing-keys.js';
import { UsedTokenIdsRepository } from './used-token-ids.js';
import { UserIdentitiesRepository } from './user-identities.js';
import { UsersRepository } from './users.js';

export interface Repositories {
  apps: AppsRepository;
  apiKeys: ApiKeysRepository;
  signingKeys: SigningKeysRepository;
  users: UsersRepository;
  sessions: SessionsRepository;
  ephemeralUsers: EphemeralUsersRepository;
  authTokens: AuthTokensRepository;
  userIdentities: UserIdentitiesRepository;
  usedTokenIds: UsedTokenIdsRepository;
  appEvents: AppEventsRepository;
  /**
   * Runs `work` in one database transaction over repositories bound to it: every write in it
   * lands, or none does. Inside, use only the repositories it is given (SQLite has one
   * connection: a query through the outer ones would wait for the transaction forever). Called
   * on repositories that are already in a transaction, it runs `work` in that one.
   */
  transaction<T>(work: (repositories: Repositories) => Promise<T>): Promise<T>;
  /**
   * Runs `task` once the transaction these repositories belong to has committed (never if it
   * rolls back); outside a transaction, at once. For what others may hear only of committed
   * writes: the wake-up of the event streams (see src/events/append.ts).
   */
  afterCommit(task: () => void): void;
}

/** The sealer encrypts the secrets in app settings (see apps/sealed-settings.ts). */
export function createRepositories(db: Kysely<Database>, sealer: SettingsSealer): Repositories {
  return bind(db, sealer, undefined);
}

/** `committed`: the tasks of the transaction `db` is, run once it commits; undefined outside one. */
function bind(db: Kysely<Database>, sealer: SettingsSealer, committed: (() => void)[] | undefined): Repositories {
  const repositories: Repositories = {
    apps: new AppsRepository(db, sealer),
    apiKeys: new ApiKeysRepository(db),
    signingKeys: new SigningKeysRepository(db),
    users: new UsersRepository(db),
    sessions: new SessionsRepository(db),
    ephemeralUsers: new EphemeralUsersRepository(db),
    authTokens: new AuthTokensRepository(db),
    userIdentities: new UserIdentitiesRepository(db),
    usedTokenIds: new UsedTokenIdsRepository(db),
    appEvents: new AppEventsRepository(db),
    transaction: async (work) => {
      if (db.isTransaction) return work(repositories);
      const tasks: (() => void)[] = [];
      const result = await db.transaction().execute((trx) => work(bind(trx, sealer, tasks)));
      for (const task of tasks) task();
      return result;
    },
    afterCommit: (task) => {
      if (committed === undefined) task();
      else committed.push(task);
    },
  };
  return repositories;
}

export type { AppRecord, NamespaceRecord } from './apps.js';
export type { ApiKeyRecord, ApiKeyKind, AdminTokenRecord } from './api-keys.js';
export type { SigningKeyRecord } from './signing-keys.js';
export type { UserRecord, ListUsersQuery, UserRowPatch } from './users.js';
export type { SessionRecord, ReconnectTokenRecord, NewSessionRow, NewReconnectTokenRow } from './sessions.js';
export type { AuthTokenRecord } from './auth-tokens.js';
export type { AppEventRecord, AppEventBounds } from './app-events.js';
export type { UserIdentityRecord } from './user-identities.js';
