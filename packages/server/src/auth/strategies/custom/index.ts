import { CustomLoginBodySchema as CustomInput } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { Static } from 'typebox';
import type { ExternalUsers } from '../../identities/external-users.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';
import { mapAnswer } from './mapping.js';
import { askIdentityProvider, unreachable } from './webhook.js';

/** Users vouched for by the identity-provider webhook are linked under this provider name. */
export const CUSTOM_PROVIDER = 'custom';

export interface CustomStrategyDependencies {
  externalUsers: ExternalUsers;
  /** Where a webhook call that gave no usable answer is reported. */
  logger: Logger;
}

/**
 * Logs in with a token only the app's own identity provider understands: Tessera sends it to
 * the app's webhook, maps the answer to a user of kind `external`, and links or creates it.
 */
export class CustomStrategy implements Strategy<typeof CustomInput> {
  readonly name = 'custom';
  readonly input = CustomInput;
  readonly limits = { guesses: true } as const;

  private readonly externalUsers: ExternalUsers;
  private readonly logger: Logger;

  constructor({ externalUsers, logger }: CustomStrategyDependencies) {
    this.externalUsers = externalUsers;
    this.logger = logger;
  }

  async authenticate(input: Static<typeof CustomInput>, { app }: StrategyContext): Promise<Identity> {
    const settings = app.settings.strategies.custom;
    // The settings schema demands a URL when the strategy is on; a document older than that rule may lack one.
    if (settings.url === undefined) throw unreachable('not_configured');
    const answer = await askIdentityProvider(
      {
        url: settings.url,
        timeoutMs: settings.timeoutMs,
        maxResponseBytes: settings.maxResponseBytes,
        headers: settings.headers,
      },
      input.token,
      { logger: this.logger, app: app.path },
    );
    const { subject, profile } = mapAnswer(answer, settings.mapping);
    const autoProvision = settings.autoProvision ?? app.settings.autoProvisionUsers;
    return {
      user: await this.externalUsers.signIn(app, {
        provider: CUSTOM_PROVIDER,
        subject,
        profile,
        autoProvision,
        matchExistingUserBy: settings.matchExistingUserBy ?? null,
      }),
    };
  }
}
