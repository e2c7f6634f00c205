import { TesseraError } from '../../../errors.js';
import type { Clock } from '../../../lib/clock.js';
import { isUniqueViolation } from '../../../store/errors.js';
import type { AppRecord, Repositories, UserRecord } from '../../../store/repositories/index.js';
import type { ProfileInput, UserService } from '../../../users/user-service.js';
import type { SessionService } from '../../sessions/session-service.js';
import type { ExternalProfile } from './mapping.js';

/**
 * Finds the user an external identity is linked to, refreshing its profile from the provider,
 * or creates and links one when the app allows it. (provider, subject) names one user per app.
 */
export class ExternalUserLinker {
  constructor(
    private readonly repositories: Repositories,
    private readonly users: UserService,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
  ) {}

  async signIn(app: AppRecord, provider: string, profile: ExternalProfile, autoProvision: boolean): Promise<UserRecord> {
    const linked = await this.linkedUser(app, provider, profile.id);
    if (linked !== undefined) return this.refresh(app, provider, profile, linked);
    if (!autoProvision) throw new TesseraError('user_not_provisioned');
    return this.provision(app, provider, profile);
  }

  private async linkedUser(app: AppRecord, provider: string, subject: string): Promise<UserRecord | undefined> {
    const identity = await this.repositories.userIdentities.find(app.id, provider, subject);
    return identity && this.repositories.users.findById(app.id, identity.userId);
  }

  /** The provider is the source of truth for the fields it sends: they overwrite Tessera's copy. */
  private async refresh(app: AppRecord, provider: string, profile: ExternalProfile, user: UserRecord): Promise<UserRecord> {
    // A user that may not log in keeps the profile it had.
    this.sessions.assertUserActive(user);
    const changes = changedFields(profile, user);
    const current = Object.keys(changes).length === 0 ? user : await this.withOwnLogin(() => this.users.updateAsAdmin(app, user.id, changes));
    await this.repositories.userIdentities.recordLogin(app.id, provider, profile.id, this.clock.now());
    return current;
  }

  private async provision(app: AppRecord, provider: string, profile: ExternalProfile): Promise<UserRecord> {
    let user: UserRecord;
    try {
      user = await this.withOwnLogin(() => this.users.create(app, { kind: 'external', profile: profileInput(profile) }));
    } catch (error) {
      // The same identity's first login may be running on another request: use its user.
      const raced = await this.linkedUser(app, provider, profile.id);
      if (raced !== undefined) return this.refresh(app, provider, profile, raced);
      throw error;
    }
    const now = this.clock.now();
    try {
      await this.repositories.userIdentities.insert({ app_id: app.id, provider, subject: profile.id, user_id: user.id, created_at: now, last_login_at: now });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await this.users.delete(app, user.id);
      const raced = await this.linkedUser(app, provider, profile.id);
      if (raced === undefined) throw error;
      return this.refresh(app, provider, profile, raced);
    }
    return user;
  }

  /** A login or email the provider sends may already belong to another user of the app. */
  private async withOwnLogin(write: () => Promise<UserRecord>): Promise<UserRecord> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'user_exists') {
        throw new TesseraError('user_exists', { message: 'The login or email the identity provider sent belongs to another user of this app.' });
      }
      throw error;
    }
  }
}

function profileInput(profile: ExternalProfile): ProfileInput {
  return {
    ...(profile.username === undefined ? {} : { username: profile.username }),
    ...(profile.email === undefined ? {} : { email: profile.email }),
    ...(profile.fullName === undefined ? {} : { fullName: profile.fullName }),
  };
}

/** Only the fields the provider sent that differ from the user's, so an unchanged login writes nothing. */
function changedFields(profile: ExternalProfile, user: UserRecord): ProfileInput {
  const changes: ProfileInput = {};
  if (profile.username !== undefined && user.username !== profile.username.normalize('NFKC')) changes.username = profile.username;
  if (profile.email !== undefined && user.email !== profile.email.trim()) changes.email = profile.email;
  if (profile.fullName !== undefined && user.fullName !== profile.fullName) changes.fullName = profile.fullName;
  return changes;
}
