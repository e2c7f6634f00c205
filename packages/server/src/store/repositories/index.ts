import type { Kysely } from 'kysely';
import type { SettingsSealer } from '../../apps/sealed-settings.js';
import type { Database } from '../schema.js';
import { ApiKeysRepository } from './api-keys.js';
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
  /**
   * Runs `work` in one database transaction over repositories bound to it: every write in it
   * lands, or none does. Inside, use only the repositories it is given (SQLite has one
   * connection: a query through the outer ones would wait for the transaction forever). Called
   * on repositories that are already in a transaction, it runs `work` in that one.
   */
  transaction<T>(work: (repositories: Repositories) => Promise<T>): Promise<T>;
}

/** The sealer encrypts the secrets in app settings (see apps/sealed-settings.ts). */
export function createRepositories(db: Kysely<Database>, sealer: SettingsSealer): Repositories {
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
    transaction: (work) =>
      db.isTransaction ? work(repositories) : db.transaction().execute((trx) => work(createRepositories(trx, sealer))),
  };
  return repositories;
}

export type { AppRecord, NamespaceRecord } from './apps.js';
export type { ApiKeyRecord, ApiKeyKind, AdminTokenRecord } from './api-keys.js';
export type { SigningKeyRecord } from './signing-keys.js';
export type { UserRecord, ListUsersQuery, UserRowPatch } from './users.js';
export type { SessionRecord, ReconnectTokenRecord, NewSessionRow, NewReconnectTokenRow } from './sessions.js';
export type { AuthTokenRecord } from './auth-tokens.js';
export type { UserIdentityRecord } from './user-identities.js';
