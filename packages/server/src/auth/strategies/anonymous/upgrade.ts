import type { AuthenticationResult } from '@tessera/protocol';
import type { Static } from 'typebox';
import { TesseraError } from '../../../errors.js';
import type { Clock } from '../../../lib/clock.js';
import { isUniqueViolation } from '../../../store/errors.js';
import type { AppRecord, Repositories, UserRecord, UserRowPatch } from '../../../store/repositories/index.js';
import type { SignupBodySchema } from '../../../users/profile-schema.js';
import { profileColumns } from '../../../users/user-service.js';
import type { Authenticator } from '../../authenticator.js';
import { normalizePassword, type PasswordHasher } from '../../passwords/index.js';
import type { AuthContext, ClientInfo, SessionService } from '../../sessions/session-service.js';

export type UpgradeInput = Static<typeof SignupBodySchema>;

/** The `strategy` recorded on the session an upgrade starts. */
export const UPGRADE_SESSION_STRATEGY = 'upgrade';

/**
 * Turns the signed-in anonymous user into a registered one: it keeps its id (and so whatever
 * the app attached to it) and gains a username and/or email and a password, validated as at
 * signup. The answer is a login's: a new session with new tokens. The anonymous session ends,
 * so the tokens issued before the upgrade stop working.
 */
export class AnonymousUpgrade {
  constructor(
    private readonly repositories: Repositories,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly authenticator: Authenticator,
    private readonly clock: Clock,
  ) {}

  async upgrade(context: AuthContext, input: UpgradeInput, client: ClientInfo): Promise<AuthenticationResult> {
    const { app, user } = context;
    if (user.kind !== 'anonymous') throw new TesseraError('not_anonymous', { details: { kind: user.kind } });
    // An upgrade is a signup by a client: an app that closed public signup closed this door too.
    if (!app.settings.publicSignup) throw new TesseraError('signup_disabled');
    if (input.username === undefined && input.email === undefined) {
      throw new TesseraError('invalid_request', { message: 'Give a username, an email, or both.', details: [{ path: '/username', message: 'username or email is required' }] });
    }
    const { password, ...profile } = input;
    const passwordHash = await this.hasher.hash(normalizePassword(password));
    const upgraded = await this.register(app, user, { ...profileColumns(profile), password_hash: passwordHash, updated_at: this.clock.now() });
    const result = await this.authenticator.startSession(app, upgraded, UPGRADE_SESSION_STRATEGY, client);
    await this.sessions.revokeAll(upgraded, 'user_upgraded', result.session.id);
    return result;
  }

  private async register(app: AppRecord, user: UserRecord, patch: UserRowPatch): Promise<UserRecord> {
    let registered: boolean;
    try {
      registered = await this.repositories.ephemeralUsers.registerAnonymous(app.id, user.id, patch);
    } catch (error) {
      if (isUniqueViolation(error)) throw new TesseraError('user_exists');
      throw error;
    }
    this.sessions.userChanged(user.id);
    const current = await this.repositories.users.findById(app.id, user.id);
    if (current === undefined) throw new TesseraError('user_not_found');
    // Lost a race: the user ended, or a concurrent upgrade got there first.
    if (!registered) throw current.endedAt !== null ? new TesseraError('user_ended') : new TesseraError('not_anonymous', { details: { kind: current.kind } });
    return current;
  }
}
