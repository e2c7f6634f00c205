import type { AuthenticationResult } from '@tessera/protocol';
import type { Static } from 'typebox';
import { TesseraError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { isUniqueViolation } from '../store/errors.js';
import type { AppRecord, Repositories, UserRecord, UserRowPatch } from '../store/repositories/index.js';
import type { SignupBodySchema } from './profile-schema.js';
import { profileColumns } from './user-service.js';
import { presentLogin } from '../auth/authenticator.js';
import { normalizePassword, passwordPolicyOf, type PasswordHasher } from '../auth/passwords/index.js';
import type { AuthContext, ClientInfo, SessionService } from '../auth/sessions/session-service.js';

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
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
  ) {}

  async upgrade(context: AuthContext, input: UpgradeInput, client: ClientInfo): Promise<AuthenticationResult> {
    const { app, user } = context;
    if (user.kind !== 'anonymous') throw new TesseraError('not_anonymous', { details: { kind: user.kind } });
    // An upgrade is a signup by a client: an app that closed public signup closed this door too.
    if (!app.settings.publicSignup) throw new TesseraError('signup_disabled');
    if (input.username === undefined && input.email === undefined) {
      throw new TesseraError('invalid_request', {
        message: 'Give a username, an email, or both.',
        details: [{ path: '/username', message: 'username or email is required' }],
      });
    }
    const { password, ...profile } = input;
    // Hashed before the transaction: hashing takes tens of milliseconds on a thread.
    const passwordHash = await this.hasher.hash(normalizePassword(password, passwordPolicyOf(app, profile)));
    // The user's change, its new session and the end of its anonymous sessions commit together:
    // a failure leaves the anonymous user and its session usable and its login free, and no
    // tokens are answered for an upgrade that did not happen. The session is a registered
    // user's, which does not expire.
    const credentials = await this.sessions.start(app, { ...user, expiresAt: null }, UPGRADE_SESSION_STRATEGY, client, {
      endingOthers: 'user_upgraded',
      alongside: async (repositories) => {
        await this.register(repositories, app, user, {
          ...profileColumns(profile),
          password_hash: passwordHash,
          updated_at: this.clock.now(),
        });
        const upgraded = await repositories.users.findById(app.id, user.id);
        if (upgraded === undefined) throw new TesseraError('user_not_found');
        this.sessions.assertUserActive(upgraded);
        return upgraded;
      },
    });
    await this.sessions.userChanged(user.id);
    return presentLogin(UPGRADE_SESSION_STRATEGY, credentials.alongside, credentials);
  }

  /** Registers the user, unless it is no longer a live anonymous user: then it throws why. */
  private async register(
    repositories: Repositories,
    app: AppRecord,
    user: UserRecord,
    patch: UserRowPatch,
  ): Promise<void> {
    let registered: boolean;
    try {
      registered = await repositories.ephemeralUsers.registerAnonymous(app.id, user.id, patch);
    } catch (error) {
      if (isUniqueViolation(error)) throw new TesseraError('user_exists');
      throw error;
    }
    if (registered) return;
    const current = await repositories.users.findById(app.id, user.id);
    if (current === undefined) throw new TesseraError('user_not_found');
    // Lost a race: the user ended, or a concurrent upgrade got there first.
    throw current.endedAt !== null
      ? new TesseraError('user_ended')
      : new TesseraError('not_anonymous', { details: { kind: current.kind } });
  }
}
