import type { Page, User } from '@tessera/protocol';
import type { Static } from 'typebox';
import Value from 'typebox/value';
import { TesseraError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { uuidv7 } from '../lib/ids.js';
import {
  isImportableHash,
  normalizePassword,
  passwordPolicyOf,
  type PasswordHasher,
  type PasswordOwner,
} from '../auth/passwords/index.js';
import type { SessionService, AuthContext } from '../auth/sessions/session-service.js';
import type { LoginThrottle } from '../auth/throttle/login-throttle.js';
import { isUniqueViolation } from '../store/errors.js';
import type { AppRecord, Repositories, UserRecord, UserRowPatch } from '../store/repositories/index.js';
import { presentUser } from '../presenters/users.js';
import { newUserRolesOf, rolesAfterUpgrade } from '../apps/new-user-roles.js';
import { externalIdIn } from './user-address.js';
import {
  CUSTOM_DATA_MAX_BYTES,
  ExternalId,
  type AdminUpdateUserBodySchema,
  type CreateUserBodySchema,
  type UpdateMeBodySchema,
} from './profile-schema.js';

type SignupInput = Static<typeof CreateUserBodySchema>;
type UpdateMeInput = Static<typeof UpdateMeBodySchema>;
type AdminUpdateInput = Static<typeof AdminUpdateUserBodySchema>;
export type ProfileInput = Omit<AdminUpdateInput, 'password' | 'disabled'>;

export interface NewUser {
  kind: UserRecord['kind'];
  profile: ProfileInput;
  passwordHash?: string | null;
  /** When the clean-up may remove the user (guests). */
  expiresAt?: number | null;
}

/** A registered account as `newAccount` checked it, ready to be written. */
export interface NewAccount {
  profile: ProfileInput;
  /** null: a user without a password (secret key only). */
  passwordHash: string | null;
}

export interface ListUsersInput {
  prefix?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

export const usernameKey = (username: string): string => username.normalize('NFKC').toLowerCase();
export const emailKey = (email: string): string => email.trim().toLowerCase();

/** The login throttle's account for a login by email or username (see LocalStrategy). */
export const throttleAccountOfLogin = (login: { email: string } | { username: string }): string =>
  'email' in login ? `e:${emailKey(login.email)}` : `u:${usernameKey(login.username)}`;
/** The login throttle's account for a password check of a signed-in user (the password change). */
const throttleAccountOfId = (userId: string): string => `id:${userId}`;

/** Every throttle account under which wrong passwords for `user` are counted. */
function throttleAccountsOf(user: UserRecord): string[] {
  const accounts = [throttleAccountOfId(user.id)];
  if (user.email !== null) accounts.push(throttleAccountOfLogin({ email: user.email }));
  if (user.username !== null) accounts.push(throttleAccountOfLogin({ username: user.username }));
  return accounts;
}

/** Users of an app: signup, profile, password, and the secret-key administration calls. */
export class UserService {
  constructor(
    private readonly repositories: Repositories,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
    private readonly throttle: LoginThrottle,
  ) {}

  /** Public signup (when `viaSecretKey` is false the app must allow it). */
  async signup(app: AppRecord, input: SignupInput, { viaSecretKey }: { viaSecretKey: boolean }): Promise<UserRecord> {
    const account = await this.newAccount(app, input, { viaSecretKey });
    return this.create(app, { kind: 'registered', ...account });
  }

  /**
   * What a new registered account needs, checked as at signup (the anonymous upgrade is one too):
   * signup open unless via the secret key, a username and/or an email (or, secret key only, an
   * externalId), and a password the app's policy accepts (or, secret key only, an imported hash
   * or none at all).
   */
  async newAccount(
    app: AppRecord,
    input: SignupInput,
    { viaSecretKey }: { viaSecretKey: boolean },
  ): Promise<NewAccount> {
    if (!viaSecretKey && !app.settings.publicSignup) throw new TesseraError('signup_disabled');
    if (!viaSecretKey && input.roles !== undefined)
      throw new TesseraError('forbidden', { message: 'Only the secret key may set roles.' });
    if (!viaSecretKey && input.externalId !== undefined)
      throw new TesseraError('forbidden', { message: 'Only the secret key may set externalId.' });
    if (input.username === undefined && input.email === undefined && input.externalId === undefined) {
      throw new TesseraError('invalid_request', {
        message: viaSecretKey ? 'Give a username, an email or an externalId.' : 'Give a username, an email, or both.',
        details: [
          {
            path: '/username',
            message: viaSecretKey ? 'username, email or externalId is required' : 'username or email is required',
          },
        ],
      });
    }
    const { password, passwordHash: importedHash, ...profile } = input;
    const passwordHash = await this.initialPasswordHash(app, { password, importedHash, owner: profile }, viaSecretKey);
    return { profile, passwordHash };
  }

  /**
   * Creates a user of any kind: signup, and the strategies that provision users on first login
   * (anonymous, guest, external identities). Profile fields are validated by the caller's schema.
   * The user starts with the app's `newUserRoles` for its kind, unless the profile gives `roles`
   * (the secret key's create, an external identity's mapped roles claim): those win.
   * `repositories` are a transaction's when the new user must be written together with more rows.
   */
  async create(
    app: AppRecord,
    { kind, profile, passwordHash = null, expiresAt = null }: NewUser,
    repositories: Repositories = this.repositories,
  ): Promise<UserRecord> {
    const now = this.clock.now();
    if (typeof profile.externalId === 'string') await assertExternalIdFree(repositories, app, profile.externalId);
    return this.writeUnique(() =>
      repositories.users.insert({
        id: uuidv7(now),
        app_id: app.id,
        kind,
        username: null,
        username_key: null,
        email: null,
        email_key: null,
        full_name: null,
        phone: null,
        website: null,
        avatar_url: null,
        tags: '[]',
        custom_data: null,
        roles: JSON.stringify(newUserRolesOf(app.settings.newUserRoles, kind)),
        ...profileColumns(profile),
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
        last_login_at: null,
        disabled_at: null,
        ended_at: null,
        expires_at: expiresAt,
      }),
    );
  }

  /**
   * Writes `account` over the live anonymous user `user`, in `repositories`' transaction, with
   * the roles {@link rolesAfterUpgrade} gives. Returns false when the user is no longer a live
   * anonymous one.
   */
  async registerAnonymous(
    repositories: Repositories,
    app: AppRecord,
    user: Pick<UserRecord, 'id' | 'roles'>,
    { profile, passwordHash }: NewAccount,
  ): Promise<boolean> {
    const patch: UserRowPatch = {
      ...profileColumns(profile),
      roles: JSON.stringify(rolesAfterUpgrade(app.settings.newUserRoles, user.roles)),
      password_hash: passwordHash,
      updated_at: this.clock.now(),
    };
    return this.writeUnique(() => repositories.ephemeralUsers.registerAnonymous(app.id, user.id, patch));
  }

  /**
   * A new user's password, or the hash of one imported from another system (secret key only):
   * argon2id as is, bcrypt until the user's next login moves it to argon2id. `password: null`
   * (secret key only) is a user without a password: it logs in by auth token or external identity.
   */
  private async initialPasswordHash(
    app: AppRecord,
    {
      password,
      importedHash,
      owner,
    }: { password: string | null | undefined; importedHash: string | undefined; owner: PasswordOwner },
    viaSecretKey: boolean,
  ): Promise<string | null> {
    if ((password === undefined) === (importedHash === undefined)) {
      throw new TesseraError('invalid_request', {
        message: viaSecretKey
          ? 'Give either password or passwordHash, or password null for a user without a password.'
          : 'Give either password or passwordHash.',
        details: [{ path: '/password', message: 'exactly one of password and passwordHash is required' }],
      });
    }
    if (password === null) {
      if (!viaSecretKey)
        throw new TesseraError('forbidden', { message: 'Only the secret key may create a user without a password.' });
      return null;
    }
    // An imported hash is taken as it is: the policy applies when a password is set, and its owner set it elsewhere.
    if (importedHash === undefined) return this.hasher.hash(normalizePassword(password!, passwordPolicyOf(app, owner)));
    if (!viaSecretKey)
      throw new TesseraError('forbidden', { message: 'Only the secret key may import a password hash.' });
    if (!isImportableHash(importedHash)) {
      throw new TesseraError('invalid_request', {
        message: 'passwordHash must be an argon2id or bcrypt ($2a$, $2b$, $2y$) hash.',
        details: [{ path: '/passwordHash', message: 'unsupported hash format' }],
      });
    }
    return importedHash;
  }

  async findByLogin(app: AppRecord, login: { email: string } | { username: string }): Promise<UserRecord | undefined> {
    return 'email' in login
      ? this.repositories.users.findByLogin(app.id, 'email_key', emailKey(login.email))
      : this.repositories.users.findByLogin(app.id, 'username_key', usernameKey(login.username));
  }

  async get(app: AppRecord, id: string): Promise<UserRecord> {
    const user = await this.repositories.users.findById(app.id, id);
    if (user === undefined) throw new TesseraError('user_not_found');
    return user;
  }

  /** Tessera's id of the user an address names (its id, or `external:{externalId}`); user_not_found if none. */
  async idOf(app: AppRecord, address: string): Promise<string> {
    const externalId = externalIdIn(address);
    if (externalId === undefined) return address;
    const user = await this.findByExternalId(app, externalId);
    if (user === undefined) throw new TesseraError('user_not_found');
    return user.id;
  }

  /** The user whose externalId is exactly `externalId`, or undefined. */
  findByExternalId(app: AppRecord, externalId: string): Promise<UserRecord | undefined> {
    return this.repositories.users.findByExternalId(app.id, externalId);
  }

  async list(app: AppRecord, { prefix, cursor, limit }: ListUsersInput): Promise<Page<User>> {
    const rows = await this.repositories.users.list(app.id, {
      prefix: prefix?.normalize('NFKC').toLowerCase(),
      after: cursor,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit);
    return { items: items.map(presentUser), nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
  }

  /** The user's own profile update. A new password needs the current one and ends the user's other sessions. */
  async updateSelf(context: AuthContext, input: UpdateMeInput): Promise<UserRecord> {
    const { app, user, session } = context;
    const { password, oldPassword, ...profile } = input;
    const patch: UserRowPatch = profileColumns(profile);
    if (password !== undefined) {
      if (oldPassword === undefined)
        throw new TesseraError('invalid_request', {
          message: 'Give oldPassword to change the password.',
          details: [{ path: '/oldPassword', message: 'required with password' }],
        });
      // A stolen access token must not become a way to guess the password: same throttle as login.
      const subject = { account: throttleAccountOfId(user.id), ip: null };
      await this.throttle.assertAllowed(app, subject);
      const { valid } = await this.hasher.verify(user.passwordHash, oldPassword.normalize('NFKC'));
      if (!valid) {
        await this.throttle.recordFailure(app, subject);
        throw new TesseraError('wrong_password');
      }
      await this.throttle.recordSuccess(app, subject);
      patch.password_hash = await this.hasher.hash(
        normalizePassword(password, passwordPolicyOf(app, ownerAfter(user, profile))),
      );
    } else if (oldPassword !== undefined) {
      throw new TesseraError('invalid_request', {
        message: 'oldPassword goes with password.',
        details: [{ path: '/oldPassword', message: 'only with password' }],
      });
    }
    const updated = await this.update(app, user.id, patch);
    if (password !== undefined) await this.sessions.revokeAll(updated, 'password_changed', session.id);
    return updated;
  }

  /**
   * The secret key's update: any field (externalId too), a password without the old one (null:
   * none any more), and the disabled flag.
   */
  async updateAsAdmin(app: AppRecord, id: string, input: AdminUpdateInput): Promise<UserRecord> {
    const { password, disabled, ...profile } = input;
    const existing = await this.get(app, id);
    if (typeof profile.externalId === 'string' && profile.externalId !== existing.externalId)
      await assertExternalIdFree(this.repositories, app, profile.externalId);
    const patch: UserRowPatch = profileColumns(profile);
    if (password === null) patch.password_hash = null;
    else if (password !== undefined)
      patch.password_hash = await this.hasher.hash(
        normalizePassword(password, passwordPolicyOf(app, ownerAfter(existing, profile))),
      );
    if (disabled !== undefined) patch.disabled_at = disabled ? (existing.disabledAt ?? this.clock.now()) : null;
    const updated = await this.update(app, id, patch);
    if (disabled === true) await this.sessions.revokeAll(updated, 'user_disabled');
    else if (password !== undefined) await this.sessions.revokeAll(updated, 'password_changed');
    // A reset is how a locked-out user gets back in: the new password works at once. The logins
    // the user had before this change are lifted too, in case the update changed them.
    if (typeof password === 'string')
      await this.throttle.lift(app, [...new Set([...throttleAccountsOf(existing), ...throttleAccountsOf(updated)])]);
    return updated;
  }

  /**
   * Deletes the user with everything that is its own: sessions and their reconnect tokens,
   * identities and auth tokens go with its row (ON DELETE CASCADE). Its live sessions are
   * revoked in the same transaction only to learn which sockets to close: a failure leaves the
   * user and its sessions as they were, a retry completes it, and nobody hears of it before it
   * committed.
   */
  async delete(app: AppRecord, id: string): Promise<void> {
    const user = await this.get(app, id);
    await this.sessions.revokeAll(user, 'user_deleted', undefined, {
      alongside: (repositories) => repositories.users.delete(app.id, id),
    });
    await this.sessions.userChanged(id);
  }

  async storePasswordHash(app: AppRecord, user: UserRecord, passwordHash: string): Promise<void> {
    await this.repositories.users.update(app.id, user.id, {
      password_hash: passwordHash,
      updated_at: this.clock.now(),
    });
    user.passwordHash = passwordHash;
  }

  private async update(app: AppRecord, id: string, patch: UserRowPatch): Promise<UserRecord> {
    const updated = await this.writeUnique(() =>
      this.repositories.users.update(app.id, id, { ...patch, updated_at: this.clock.now() }),
    );
    if (updated === undefined) throw new TesseraError('user_not_found');
    await this.sessions.userChanged(id);
    return updated;
  }

  private async writeUnique<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw new TesseraError('user_exists');
      throw error;
    }
  }
}

/** The logins a user will have once `profile` applies: a new password may not be any of them. */
function ownerAfter(user: UserRecord, profile: ProfileInput): { email: string | null; username: string | null } {
  return { email: profile.email ?? user.email, username: profile.username ?? user.username };
}

/** Maps API profile fields to columns; only the fields present in the input. */
function profileColumns(input: ProfileInput): UserRowPatch {
  const patch: UserRowPatch = {};
  if (input.username !== undefined) {
    patch.username = input.username.normalize('NFKC');
    patch.username_key = usernameKey(input.username);
  }
  if (input.email !== undefined) {
    patch.email = input.email.trim();
    patch.email_key = emailKey(input.email);
  }
  if (input.externalId !== undefined) patch.external_id = checkedExternalId(input.externalId);
  if (input.fullName !== undefined) patch.full_name = input.fullName;
  if (input.phone !== undefined) patch.phone = input.phone;
  if (input.website !== undefined) patch.website = input.website;
  if (input.avatarUrl !== undefined) patch.avatar_url = input.avatarUrl;
  if (input.tags !== undefined) patch.tags = JSON.stringify(input.tags);
  if (input.customData !== undefined) patch.custom_data = serializeCustomData(input.customData);
  if (input.roles !== undefined) patch.roles = JSON.stringify(input.roles);
  return patch;
}

/** The routes' schemas check the form already; callers without one (the CLI) are checked here. */
function checkedExternalId(externalId: string | null): string | null {
  if (externalId === null || Value.Check(ExternalId, externalId)) return externalId;
  throw new TesseraError('invalid_request', {
    message: 'externalId must be 1 to 100 characters of A-Z a-z 0-9 _ . @ : -.',
    details: [{ path: '/externalId', message: 'not an externalId' }],
  });
}

/**
 * Refuses an externalId another user of the app holds, naming the field. Checked before the
 * write so the answer can say which field; a write racing past the check still fails on the
 * unique index and answers the generic user_exists.
 */
async function assertExternalIdFree(repositories: Repositories, app: AppRecord, externalId: string): Promise<void> {
  if ((await repositories.users.findByExternalId(app.id, externalId)) === undefined) return;
  throw new TesseraError('user_exists', {
    message: 'Another user of this app has this externalId.',
    details: [{ path: '/externalId', message: 'already belongs to another user of the app' }],
  });
}

function serializeCustomData(customData: Record<string, unknown> | null): string | null {
  if (customData === null) return null;
  const json = JSON.stringify(customData);
  if (Buffer.byteLength(json) > CUSTOM_DATA_MAX_BYTES) {
    throw new TesseraError('invalid_request', {
      message: 'customData is larger than 16 KiB.',
      details: [{ path: '/customData', message: `must be at most ${CUSTOM_DATA_MAX_BYTES} bytes as JSON` }],
    });
  }
  return json;
}
