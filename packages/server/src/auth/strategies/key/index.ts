import { KeyLoginBodySchema as KeyInput } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { Static } from 'typebox';
import type { AppService } from '../../../apps/app-service.js';
import type { Config } from '../../../config/index.js';
import { TesseraError } from '../../../errors.js';
import type { UsersRepository } from '../../../store/repositories/users.js';
import type { SessionService } from '../../sessions/session-service.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';

export interface KeyStrategyOptions {
  /** The server's mode: in production this strategy is refused whatever the app says. */
  mode: Config['mode'];
  apps: AppService;
  users: UsersRepository;
  sessions: SessionService;
  logger: Logger;
}

/**
 * Logs in as any user of the app with nothing but its id and the app's publishable key
 * (CometChat's Auth Key login). The publishable key ships in every client, so this proves
 * nothing about the person: it exists for prototypes and tests. Off by default, refused in
 * production mode, and every attempt is logged at warn level.
 */
export class KeyStrategy implements Strategy<typeof KeyInput> {
  readonly name = 'key';
  readonly input = KeyInput;
  readonly limits = { guesses: true } as const;

  constructor(private readonly options: KeyStrategyOptions) {}

  async authenticate(input: Static<typeof KeyInput>, { app }: StrategyContext): Promise<Identity> {
    const { mode, logger } = this.options;
    const fields = { app: app.path, userId: input.userId, strategy: this.name };
    if (mode === 'production') {
      logger.warn(
        fields,
        'key login refused: the key strategy is for development only and this server runs in production mode',
      );
      throw new TesseraError('strategy_disabled', {
        message: 'The key strategy is for development only; this server runs in production mode.',
        details: { strategy: this.name, reason: 'production_mode' },
      });
    }
    try {
      const user = await this.prove(app, input);
      logger.warn(
        fields,
        "DEVELOPMENT: key login — a user logged in with only the app's publishable key; never enable the key strategy for real users",
      );
      return { user };
    } catch (error) {
      logger.warn(
        { ...fields, code: error instanceof TesseraError ? error.code : 'internal_error' },
        'key login refused',
      );
      throw error;
    }
  }

  private async prove(app: StrategyContext['app'], input: Static<typeof KeyInput>) {
    const key = await this.options.apps.authenticateKey(app, input.key);
    // The secret key must never reach a client; refusing it here keeps anyone from learning to put it there.
    if (key.kind !== 'publishable')
      throw new TesseraError('invalid_api_key', {
        message: "Use the app's publishable key (pk_…) for key login, never the secret key.",
      });
    const user = await this.options.users.findById(app.id, input.userId);
    if (user === undefined)
      throw new TesseraError('invalid_credentials', { message: 'No user of this app has this id.' });
    // Checked here, not only by the authenticator, so that the log line tells the real outcome.
    this.options.sessions.assertUserActive(user);
    return user;
  }
}
