import type { Static } from 'typebox';
import { rolesAfterUpgrade } from '../apps/new-user-roles.js';
import { TesseraError } from '../errors.js';
import type { AppRecord, Repositories, UserRecord } from '../store/repositories/index.js';
import type { SignupBodySchema } from './profile-schema.js';
import type { NewAccount, UserService } from './user-service.js';
import type { LoginOutcome } from '../auth/authenticator.js';
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
    private readonly users: UserService,
    private readonly sessions: SessionService,
  ) {}

  async upgrade(context: AuthContext, input: UpgradeInput, client: ClientInfo): Promise<LoginOutcome> {
    const { app, user } = context;
    if (user.kind !== 'anonymous') throw new TesseraError('not_anonymous', { details: { kind: user.kind } });
    // A signup by a client, checked as one: an app that closed public signup closed this door too.
    // Hashed before the transaction: hashing takes tens of milliseconds on a thread.
    const account = await this.users.newAccount(app, input, { viaSecretKey: false });
    // The user's change, its new session and the end of its anonymous sessions commit together:
    // a failure leaves the anonymous user and its session usable and its login free, and no
    // tokens are answered for an upgrade that did not happen. The session is a registered
    // user's, which does not expire, and its tokens (signed before the transaction) say so.
    const registered: UserRecord = {
      ...user,
      kind: 'registered',
      expiresAt: null,
      roles: rolesAfterUpgrade(app.settings.newUserRoles, user.roles),
    };
    const credentials = await this.sessions.start(app, registered, UPGRADE_SESSION_STRATEGY, client, {
      endingOthers: 'user_upgraded',
      alongside: async (repositories) => {
        await this.register(repositories, app, user, account);
        const upgraded = await repositories.users.findById(app.id, user.id);
        if (upgraded === undefined) throw new TesseraError('user_not_found');
        this.sessions.assertUserActive(upgraded);
        return upgraded;
      },
    });
    await this.sessions.userChanged(user.id);
    return {
      strategy: UPGRADE_SESSION_STRATEGY,
      user: credentials.alongside,
      session: credentials.session,
      credentials,
      resumed: false,
    };
  }

  /** Registers the user, unless it is no longer a live anonymous user: then it throws why. */
  private async register(
    repositories: Repositories,
    app: AppRecord,
    user: UserRecord,
    account: NewAccount,
  ): Promise<void> {
    if (await this.users.registerAnonymous(repositories, app, user, account)) return;
    const current = await repositories.users.findById(app.id, user.id);
    if (current === undefined) throw new TesseraError('user_not_found');
    // Lost a race: the user ended, or a concurrent upgrade got there first.
    throw current.endedAt !== null
      ? new TesseraError('user_ended')
      : new TesseraError('not_anonymous', { details: { kind: current.kind } });
  }
}
