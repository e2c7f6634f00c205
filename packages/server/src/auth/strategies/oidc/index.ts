import { OidcLoginBodySchema as OidcInput } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { Static } from 'typebox';
import type { Clock } from '../../../lib/clock.js';
import { logRefusal } from '../../external-tokens/refusal.js';
import type { ExternalUsers } from '../../identities/external-users.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';
import { IdTokenVerifier, type VerifiedIdToken } from './id-token.js';
import { profileFromProvider } from './profile.js';
import { ProviderCache, type ProviderCacheOptions } from './provider-cache.js';

/** The `user_identities.provider` of an OpenID provider: one namespace of subjects per issuer. */
const identityProvider = (issuer: string): string => `oidc:${issuer}`;

export interface OidcStrategyDependencies {
  externalUsers: ExternalUsers;
  clock: Clock;
  /** Where refusals are explained (the client only hears `invalid_token`) and refused keys are reported. */
  logger: Logger;
  cache?: ProviderCacheOptions;
}

/**
 * Logs in with an ID token of one of the app's OpenID Connect providers (Firebase, Google,
 * Keycloak, Auth0…), verified through the provider's discovery document and keys; the user is
 * the one linked to the token's (issuer, sub), or a new `external` user when provisioning is on.
 */
export class OidcStrategy implements Strategy<typeof OidcInput> {
  readonly name = 'oidc';
  readonly input = OidcInput;
  readonly limits = { guesses: true } as const;
  private readonly verifier: IdTokenVerifier;
  private readonly externalUsers: ExternalUsers;
  private readonly logger: Logger;

  constructor({ externalUsers, clock, logger, cache }: OidcStrategyDependencies) {
    this.verifier = new IdTokenVerifier(new ProviderCache(clock, logger, cache), clock);
    this.externalUsers = externalUsers;
    this.logger = logger;
  }

  async authenticate(input: Static<typeof OidcInput>, { app }: StrategyContext): Promise<Identity> {
    const { providers } = app.settings.strategies.oidc;
    let verified: VerifiedIdToken;
    try {
      verified = await this.verifier.verify(app.id, providers, input.idToken, input.nonce);
    } catch (error) {
      logRefusal(this.logger, error, { app: app.path, strategy: this.name });
      throw error;
    }
    const { provider, claims } = verified;
    const user = await this.externalUsers.signIn(app, {
      provider: identityProvider(provider.issuer),
      subject: claims.sub,
      profile: profileFromProvider(claims, provider),
      autoProvision: provider.autoProvision ?? app.settings.autoProvisionUsers,
      notProvisionedDetails: { strategy: 'oidc', issuer: provider.issuer },
    });
    return { user };
  }
}
