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
}

/** The sealer encrypts the secrets in app settings (see apps/sealed-settings.ts). */
export function createRepositories(db: Kysely<Database>, sealer: SettingsSealer): Repositories {
  return {
    apps: new AppsRepository(db, sealer),
    apiKeys: new ApiKeysRepository(db),
    signingKeys: new SigningKeysRepository(db),
    users: new UsersRepository(db),
    sessions: new SessionsRepository(db),
    ephemeralUsers: new EphemeralUsersRepository(db),
    authTokens: new AuthTokensRepository(db),
    userIdentities: new UserIdentitiesRepository(db),
    usedTokenIds: new UsedTokenIdsRepository(db),
  };
}

export type { AppRecord, NamespaceRecord } from './apps.js';
export type { ApiKeyRecord, ApiKeyKind, AdminTokenRecord } from './api-keys.js';
export type { SigningKeyRecord } from './signing-keys.js';
export type { UserRecord, ListUsersQuery, UserRowPatch } from './users.js';
export type { SessionRecord, ReconnectTokenRecord } from './sessions.js';
export type { AuthTokenRecord } from './auth-tokens.js';
export type { UserIdentityRecord } from './user-identities.js';
