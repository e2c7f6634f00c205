import { TesseraError } from '../../../errors.js';
import type { Clock } from '../../../lib/clock.js';
import { isUniqueViolation } from '../../../store/errors.js';
import type { AppRecord, Repositories, UserRecord } from '../../../store/repositories/index.js';
import type { ProfileInput, UserService } from '../../../users/user-service.js';
import type { TrustedIssuerSettings } from './settings.js';

/** The `user_identities.provider` of a trusted issuer. */
export const issuerProvider = (issuerId: string): string => `jwt:${issuerId}`;

export interface IssuerLogin {
  issuer: TrustedIssuerSettings;
  /** The user's id at the issuer (the `userIdClaim`). */
  subject: string;
  profile: ProfileInput;
}

/**
 * The user behind a trusted issuer's token: the one linked to (issuer, user id), else an
 * existing user the issuer is allowed to claim (`matchExistingUserBy`), else a new user of kind
 * `external` when provisioning is on. Users this strategy created follow the claims at each login.
 */
export class IssuerUsers {
  constructor(
    private readonly repositories: Repositories,
    private readonly users: UserService,
    private readonly clock: Clock,
  ) {}

  async resolve(app: AppRecord, login: IssuerLogin): Promise<UserRecord> {
    const provider = issuerProvider(login.issuer.id);
    const linked = await this.linkedUser(app, provider, login.subject);
    if (linked !== undefined) {
      await this.repositories.userIdentities.recordLogin(app.id, provider, login.subject, this.clock.now());
      return this.refresh(app, linked, login);
    }
    const existing = await this.claimableUser(app, login);
    if (existing !== undefined) return this.link(app, provider, login, existing, false);
    if (!(login.issuer.autoProvision ?? app.settings.autoProvisionUsers)) {
      throw new TesseraError('user_not_provisioned', { details: { strategy: 'jwt', issuer: login.issuer.id } });
    }
    return this.link(app, provider, login, await this.create(app, login.profile), true);
  }

  private async linkedUser(app: AppRecord, provider: string, subject: string): Promise<UserRecord | undefined> {
    const identity = await this.repositories.userIdentities.find(app.id, provider, subject);
    return identity && this.repositories.users.findById(app.id, identity.userId);
  }

  /** A user the admin lets this issuer claim by Tessera id or username; never by email. */
  private async claimableUser(app: AppRecord, { issuer, subject }: IssuerLogin): Promise<UserRecord | undefined> {
    if (issuer.matchExistingUserBy === null) return undefined;
    const user =
      issuer.matchExistingUserBy === 'id' ? await this.repositories.users.findById(app.id, subject) : await this.users.findByLogin(app, { username: subject });
    // Temporary users are not accounts to take over.
    return user?.kind === 'registered' || user?.kind === 'external' ? user : undefined;
  }

  /** Links the identity; when another first login of it won the race, its user is the answer. */
  private async link(app: AppRecord, provider: string, login: IssuerLogin, user: UserRecord, created: boolean): Promise<UserRecord> {
    const now = this.clock.now();
    try {
      await this.repositories.userIdentities.insert({ app_id: app.id, provider, subject: login.subject, user_id: user.id, created_at: now, last_login_at: now });
      return created ? user : this.refresh(app, user, login);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    if (created) await this.users.delete(app, user.id);
    const winner = await this.linkedUser(app, provider, login.subject);
    if (winner === undefined) throw new TesseraError('user_not_found');
    return winner;
  }

  private async create(app: AppRecord, profile: ProfileInput): Promise<UserRecord> {
    try {
      return await this.users.create(app, { kind: 'external', profile });
    } catch (error) {
      // The address belongs to another user of the app. Linking to that user would hand it to
      // whoever controls the issuer's account, so the new user goes without the address.
      if (!isTaken(error) || profile.email === undefined) throw error;
      return this.users.create(app, { kind: 'external', profile: withoutEmail(profile) });
    }
  }

  /** Writes the claimed fields that changed; only for users this strategy made, and not for disabled ones. */
  private async refresh(app: AppRecord, user: UserRecord, { issuer, profile }: IssuerLogin): Promise<UserRecord> {
    if (!issuer.updateProfile || user.kind !== 'external' || user.disabledAt !== null) return user;
    const changes = changedFields(user, profile);
    if (Object.keys(changes).length === 0) return user;
    try {
      return await this.users.updateAsAdmin(app, user.id, changes);
    } catch (error) {
      if (!isTaken(error) || changes.email === undefined) throw error;
      const rest = withoutEmail(changes);
      return Object.keys(rest).length === 0 ? user : this.users.updateAsAdmin(app, user.id, rest);
    }
  }
}

function withoutEmail(profile: ProfileInput): ProfileInput {
  const rest = { ...profile };
  delete rest.email;
  return rest;
}

const isTaken = (error: unknown): boolean => error instanceof TesseraError && error.code === 'user_exists';

/** Only what differs, so that an unchanged login writes nothing. A claim that is absent changes nothing. */
function changedFields(user: UserRecord, profile: ProfileInput): ProfileInput {
  const changes: ProfileInput = {};
  if (profile.fullName !== undefined && profile.fullName !== user.fullName) changes.fullName = profile.fullName;
  if (profile.email !== undefined && profile.email !== user.email) changes.email = profile.email;
  if (profile.tags !== undefined && JSON.stringify(profile.tags) !== JSON.stringify(user.tags)) changes.tags = profile.tags;
  return changes;
}
