import type { Logger } from 'pino';
import { TesseraError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { isUniqueViolation } from '../../store/errors.js';
import type { AppRecord, Repositories, UserRecord } from '../../store/repositories/index.js';
import type { ProfileInput, UserService } from '../../users/user-service.js';
import type { SessionService } from '../sessions/session-service.js';

/** The profile fields an external identity may fill. Only the fields present are ever written. */
export type ExternalProfile = Pick<
  ProfileInput,
  'username' | 'email' | 'externalId' | 'fullName' | 'avatarUrl' | 'phone' | 'tags' | 'roles'
>;

/** How a login whose identity is linked to no user yet may claim an existing user: by the subject. */
export type MatchExistingUserBy = 'id' | 'username' | 'externalId';

/** An identity proven by a trusted issuer, an OpenID provider or the app's identity-provider webhook. */
export interface ExternalLogin {
  /** The `user_identities.provider`: `jwt:<issuer id>`, `oidc:<issuer>`, `custom`. */
  provider: string;
  /** The user's stable id at the provider. */
  subject: string;
  /** What the provider says about the user, already mapped and checked by the strategy. */
  profile: ExternalProfile;
  /** Whether an identity linked to no user creates one (kind `external`). */
  autoProvision: boolean;
  /**
   * When no user is linked yet, link the existing registered or external user whose Tessera id
   * (or username, or externalId) equals the subject. Never by email. Absent or null: never.
   */
  matchExistingUserBy?: MatchExistingUserBy | null;
  /** Whether linked users of kind `external` follow the provider's profile at each login. Default true. */
  updateProfile?: boolean;
  /** Added to `user_not_provisioned`, so the client learns which provider refused. */
  notProvisionedDetails?: Record<string, unknown>;
}

type UniqueField = 'username' | 'email' | 'externalId';

/** A unique field taken between the check and the write is checked again this many times in all. */
const WRITE_ATTEMPTS = 3;

/**
 * The one link-or-provision of external identities, for every strategy that has them: the user
 * linked to (provider, subject), its profile refreshed from what the provider sent; else a user
 * the provider may claim; else, when provisioning is allowed, a new user of kind `external`.
 *
 * A username, email or externalId the provider sends that already belongs to another user of the app is
 * never a reason to link the two (whoever controls the provider account would take over the
 * app's account) nor to fail the login: the user is written without that field, and the event
 * is logged at info with the provider and user id, never the value.
 */
export class ExternalUsers {
  constructor(
    private readonly repositories: Repositories,
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async signIn(app: AppRecord, login: ExternalLogin): Promise<UserRecord> {
    const linked = await this.linkedUser(app, login);
    if (linked !== undefined) return this.loggedIn(app, login, linked);
    const claimable = await this.claimableUser(app, login);
    if (claimable !== undefined) return this.claim(app, login, claimable);
    if (!login.autoProvision)
      throw new TesseraError(
        'user_not_provisioned',
        login.notProvisionedDetails === undefined ? {} : { details: login.notProvisionedDetails },
      );
    return this.provision(app, login);
  }

  private async linkedUser(app: AppRecord, { provider, subject }: ExternalLogin): Promise<UserRecord | undefined> {
    const identity = await this.repositories.userIdentities.find(app.id, provider, subject);
    return identity && this.repositories.users.findById(app.id, identity.userId);
  }

  /** A user that may not log in keeps the profile it had, and its identity's last login. */
  private async loggedIn(app: AppRecord, login: ExternalLogin, user: UserRecord): Promise<UserRecord> {
    this.sessions.assertUserActive(user);
    const current = await this.refresh(app, login, user);
    await this.repositories.userIdentities.recordLogin(app.id, login.provider, login.subject, this.clock.now());
    return current;
  }

  private async claimableUser(
    app: AppRecord,
    { matchExistingUserBy, subject }: ExternalLogin,
  ): Promise<UserRecord | undefined> {
    if (matchExistingUserBy === undefined || matchExistingUserBy === null) return undefined;
    const user =
      matchExistingUserBy === 'id'
        ? await this.repositories.users.findById(app.id, subject)
        : matchExistingUserBy === 'externalId'
          ? await this.users.findByExternalId(app, subject)
          : await this.users.findByLogin(app, { username: subject });
    // Temporary users (anonymous, guest) are not accounts to take over.
    return user?.kind === 'registered' || user?.kind === 'external' ? user : undefined;
  }

  private async claim(app: AppRecord, login: ExternalLogin, user: UserRecord): Promise<UserRecord> {
    // Checked before linking, so that a refused login leaves no link behind.
    this.sessions.assertUserActive(user);
    if (await this.insertLink(app, login, user)) return this.refresh(app, login, user);
    return this.raceWinner(app, login);
  }

  private async provision(app: AppRecord, login: ExternalLogin): Promise<UserRecord> {
    try {
      const { user, dropped } = await this.writeOwnFields(app, undefined, login.profile, (fields) =>
        this.createLinked(app, login, fields),
      );
      this.logDropped(app, login.provider, user.id, dropped);
      return user;
    } catch (error) {
      if (!(error instanceof LinkedMeanwhile)) throw error;
      // The same identity's first login ran on another request and linked first: its user is the answer.
      return this.raceWinner(app, login);
    }
  }

  /**
   * The new user and its link in one transaction: a failure between the two leaves neither, not
   * a user without its identity that would hold the username or email the provider sent.
   */
  private createLinked(app: AppRecord, login: ExternalLogin, fields: ExternalProfile): Promise<UserRecord> {
    return this.repositories.transaction(async (repositories) => {
      const user = await this.users.create(app, { kind: 'external', profile: fields }, repositories);
      if (!(await this.insertLink(app, login, user, repositories))) throw new LinkedMeanwhile();
      return user;
    });
  }

  /** Links the identity to the user; false when another request linked it first. */
  private async insertLink(
    app: AppRecord,
    { provider, subject }: ExternalLogin,
    user: UserRecord,
    repositories: Repositories = this.repositories,
  ): Promise<boolean> {
    const now = this.clock.now();
    try {
      await repositories.userIdentities.insert({
        app_id: app.id,
        provider,
        subject,
        user_id: user.id,
        created_at: now,
        last_login_at: now,
      });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  private async raceWinner(app: AppRecord, login: ExternalLogin): Promise<UserRecord> {
    const winner = await this.linkedUser(app, login);
    // The winner's user was deleted in the meantime: nothing sound to log in.
    if (winner === undefined) throw new TesseraError('user_not_found');
    return this.loggedIn(app, login, winner);
  }

  /** Writes the fields the provider sent that changed; only users made from an external identity follow it. */
  private async refresh(app: AppRecord, login: ExternalLogin, user: UserRecord): Promise<UserRecord> {
    // A registered user claimed by matchExistingUserBy keeps its own profile.
    if (login.updateProfile === false || user.kind !== 'external') return user;
    const changes = changedFields(login.profile, user);
    if (isEmpty(changes)) return user;
    const written = await this.writeOwnFields(app, user.id, changes, (fields) =>
      isEmpty(fields) ? Promise.resolve(user) : this.users.updateAsAdmin(app, user.id, fields),
    );
    this.logDropped(app, login.provider, user.id, written.dropped);
    return written.user;
  }

  /**
   * Writes the profile without a username, email or externalId that belongs to another user. A field taken
   * by another request between the check and the write makes the write fail: check again.
   */
  private async writeOwnFields(
    app: AppRecord,
    ownId: string | undefined,
    profile: ExternalProfile,
    write: (fields: ExternalProfile) => Promise<UserRecord>,
  ): Promise<{ user: UserRecord; dropped: UniqueField[] }> {
    const dropped = new Set<UniqueField>();
    for (let attempt = 1; ; attempt += 1) {
      for (const field of await this.takenFields(app, ownId, profile)) dropped.add(field);
      try {
        return { user: await write(without(profile, dropped)), dropped: [...dropped] };
      } catch (error) {
        if (!(error instanceof TesseraError && error.code === 'user_exists') || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }

  private async takenFields(
    app: AppRecord,
    ownId: string | undefined,
    { username, email, externalId }: ExternalProfile,
  ): Promise<UniqueField[]> {
    const taken: UniqueField[] = [];
    const owner = async (login: { username: string } | { email: string }) =>
      (await this.users.findByLogin(app, login))?.id;
    const isOthers = (id: string | undefined) => ![undefined, ownId].includes(id);
    if (username !== undefined && isOthers(await owner({ username }))) taken.push('username');
    if (email !== undefined && isOthers(await owner({ email }))) taken.push('email');
    if (typeof externalId === 'string' && isOthers((await this.users.findByExternalId(app, externalId))?.id))
      taken.push('externalId');
    return taken;
  }

  private logDropped(app: AppRecord, provider: string, userId: string, fields: UniqueField[]): void {
    if (fields.length === 0) return;
    // The values are personal data and stay out of the log; the user and provider are enough to look.
    this.logger.info(
      { app: app.path, provider, userId, fields },
      'external login: a field the provider sent belongs to another user of the app and was left out',
    );
  }
}

/** Another request linked the identity while this one created its user: the transaction rolls back. */
class LinkedMeanwhile extends Error {}

function without(profile: ExternalProfile, fields: Set<UniqueField>): ExternalProfile {
  const rest = { ...profile };
  for (const field of fields) delete rest[field];
  return rest;
}

const isEmpty = (profile: ExternalProfile): boolean => Object.keys(profile).length === 0;

/** Only what differs from the user's, so that an unchanged login writes nothing. A field the provider left out changes nothing. */
function changedFields(profile: ExternalProfile, user: UserRecord): ExternalProfile {
  const changes: ExternalProfile = {};
  if (profile.username !== undefined && profile.username.normalize('NFKC') !== user.username)
    changes.username = profile.username;
  if (profile.email !== undefined && profile.email.trim() !== user.email) changes.email = profile.email;
  if (profile.externalId !== undefined && profile.externalId !== user.externalId)
    changes.externalId = profile.externalId;
  if (profile.fullName !== undefined && profile.fullName !== user.fullName) changes.fullName = profile.fullName;
  if (profile.avatarUrl !== undefined && profile.avatarUrl !== user.avatarUrl) changes.avatarUrl = profile.avatarUrl;
  if (profile.phone !== undefined && profile.phone !== user.phone) changes.phone = profile.phone;
  if (profile.tags !== undefined && JSON.stringify(profile.tags) !== JSON.stringify(user.tags))
    changes.tags = profile.tags;
  if (profile.roles !== undefined && JSON.stringify(profile.roles) !== JSON.stringify(user.roles))
    changes.roles = profile.roles;
  return changes;
}
