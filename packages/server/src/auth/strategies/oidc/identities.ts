import { TesseraError } from '../../../errors.js';
import type { Clock } from '../../../lib/clock.js';
import { isUniqueViolation } from '../../../store/errors.js';
import type { AppRecord, UserRecord } from '../../../store/repositories/index.js';
import type { UserIdentitiesRepository } from '../../../store/repositories/user-identities.js';
import type { ProfileInput, UserService } from '../../../users/user-service.js';
import type { ClaimedProfile } from './profile.js';
import type { OidcProviderSettings } from './settings.js';

/** The `user_identities.provider` of an OpenID provider: one namespace of subjects per issuer. */
export const identityProvider = (issuer: string): string => `oidc:${issuer}`;

/**
 * Finds the user an (issuer, sub) pair is linked to, or creates one when the provider (or else
 * the app) allows it. Users created here are of kind `external`, and their profile follows the
 * provider's claims at each login.
 */
export class OidcIdentities {
  constructor(
    private readonly identities: UserIdentitiesRepository,
    private readonly users: UserService,
    private readonly clock: Clock,
  ) {}

  async resolve(app: AppRecord, provider: OidcProviderSettings, subject: string, profile: ClaimedProfile): Promise<UserRecord> {
    const providerKey = identityProvider(provider.issuer);
    const link = await this.identities.find(app.id, providerKey, subject);
    if (link === undefined) {
      if (!(provider.autoProvision ?? app.settings.autoProvisionUsers)) {
        throw new TesseraError('user_not_provisioned', { details: { strategy: 'oidc', issuer: provider.issuer } });
      }
      return this.provision(app, providerKey, subject, profile);
    }
    await this.identities.recordLogin(app.id, providerKey, subject, this.clock.now());
    const user = await this.users.get(app, link.userId);
    // Only users this strategy made follow the provider; a disabled one is refused by the authenticator as it is.
    return user.kind === 'external' && user.disabledAt === null ? this.refresh(app, user, profile) : user;
  }

  private async provision(app: AppRecord, providerKey: string, subject: string, profile: ClaimedProfile): Promise<UserRecord> {
    const user = await this.createUser(app, profile);
    const now = this.clock.now();
    try {
      await this.identities.insert({ app_id: app.id, provider: providerKey, subject, user_id: user.id, created_at: now, last_login_at: now });
      return user;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    // Two first logins of the same identity raced and the other one linked first: use its user.
    await this.users.delete(app, user.id);
    const winner = await this.identities.find(app.id, providerKey, subject);
    if (winner === undefined) throw new TesseraError('user_not_found');
    return this.users.get(app, winner.userId);
  }

  private async createUser(app: AppRecord, profile: ClaimedProfile): Promise<UserRecord> {
    try {
      return await this.users.create(app, { kind: 'external', profile });
    } catch (error) {
      // The verified address already belongs to another user of the app. Linking to that user
      // would hand it to whoever controls the provider account, so the new user goes without it.
      if (!(error instanceof TesseraError && error.code === 'user_exists') || profile.email === undefined) throw error;
      return this.users.create(app, { kind: 'external', profile: withoutEmail(profile) });
    }
  }

  /** Writes the fields whose claims changed since the last login; an address taken by another user is left out. */
  private async refresh(app: AppRecord, user: UserRecord, profile: ClaimedProfile): Promise<UserRecord> {
    const changes: ProfileInput = {};
    if (profile.fullName !== undefined && profile.fullName !== user.fullName) changes.fullName = profile.fullName;
    if (profile.avatarUrl !== undefined && profile.avatarUrl !== user.avatarUrl) changes.avatarUrl = profile.avatarUrl;
    if (profile.phone !== undefined && profile.phone !== user.phone) changes.phone = profile.phone;
    if (profile.email !== undefined && profile.email !== user.email) changes.email = profile.email;
    if (Object.keys(changes).length === 0) return user;
    try {
      return await this.users.updateAsAdmin(app, user.id, changes);
    } catch (error) {
      if (!(error instanceof TesseraError && error.code === 'user_exists') || changes.email === undefined) throw error;
      const rest: ProfileInput = { ...changes };
      delete rest.email;
      return Object.keys(rest).length === 0 ? user : this.users.updateAsAdmin(app, user.id, rest);
    }
  }
}

function withoutEmail(profile: ClaimedProfile): ClaimedProfile {
  const rest = { ...profile };
  delete rest.email;
  return rest;
}
