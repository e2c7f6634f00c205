import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { ApiKeysRepository } from './api-keys.js';
import { AppsRepository } from './apps.js';
import { SessionsRepository } from './sessions.js';
import { SigningKeysRepository } from './signing-keys.js';
import { UsersRepository } from './users.js';

export interface Repositories {
  apps: AppsRepository;
  apiKeys: ApiKeysRepository;
  signingKeys: SigningKeysRepository;
  users: UsersRepository;
  sessions: SessionsRepository;
}

export function createRepositories(db: Kysely<Database>): Repositories {
  return {
    apps: new AppsRepository(db),
    apiKeys: new ApiKeysRepository(db),
    signingKeys: new SigningKeysRepository(db),
    users: new UsersRepository(db),
    sessions: new SessionsRepository(db),
  };
}

export type { AppRecord, NamespaceRecord } from './apps.js';
export type { ApiKeyRecord, ApiKeyKind, AdminTokenRecord } from './api-keys.js';
export type { SigningKeyRecord } from './signing-keys.js';
export type { UserRecord, ListUsersQuery, UserRowPatch } from './users.js';
export type { SessionRecord, ReconnectTokenRecord } from './sessions.js';
