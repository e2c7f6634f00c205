import { JwtLoginBodySchema as JwtInput } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { Static } from 'typebox';
import type { AppService } from '../../../apps/app-service.js';
import { TesseraError } from '../../../errors.js';
import type { Clock } from '../../../lib/clock.js';
import { parseOpaqueToken } from '../../../lib/opaque-token.js';
import type { AppRecord, Repositories } from '../../../store/repositories/index.js';
import { logRefusal } from '../../external-tokens/refusal.js';
import { KeySets } from '../../remote/key-sets.js';
import type { ExternalUsers } from '../../identities/external-users.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';
import { profileFrom, userIdFrom, type Claims } from './claims.js';
import { IssuerKeys } from './issuer-keys.js';
import { JwksCache } from './jwks-cache.js';
import type { TrustedIssuerSettings } from './settings.js';
import { TokenRejected } from './token-rejected.js';
import { ExternalJwtVerifier } from './verify-external-jwt.js';

/** The `user_identities.provider` of a trusted issuer. */
export const issuerProvider = (issuerId: string): string => `jwt:${issuerId}`;

export interface JwtStrategyDependencies {
  repositories: Repositories;
  externalUsers: ExternalUsers;
  apps: AppService;
  clock: Clock;
  /** Where refusals are explained: the client only hears `invalid_token`. */
  logger: Logger;
}

/**
 * Logs in with a JWT from one of the app's trusted issuers (Convergence's and ApiRTC's JWT
 * authentication): verified against the issuer's secret, public keys or JWKS, its user id read
 * from the configured claim, and the user linked, matched or provisioned.
 */
export class JwtStrategy implements Strategy<typeof JwtInput> {
  readonly name = 'jwt';
  readonly input = JwtInput;
  readonly limits = { guesses: true } as const;
  private readonly verifier: ExternalJwtVerifier;

  constructor(private readonly dependencies: JwtStrategyDependencies) {
    const { clock, logger } = dependencies;
    const keySets = new KeySets({
      clock,
      logger,
      refusedKeyMessage: 'trusted issuer key refused by the key checks; it is not used',
    });
    this.verifier = new ExternalJwtVerifier(new IssuerKeys(new JwksCache(keySets), logger), clock);
  }

  async authenticate(input: Static<typeof JwtInput>, context: StrategyContext): Promise<Identity> {
    try {
      return await this.authenticateToken(input, context);
    } catch (error) {
      logRefusal(this.dependencies.logger, error, { app: context.app.path, strategy: this.name });
      throw error;
    }
  }

  private async authenticateToken(input: Static<typeof JwtInput>, { app }: StrategyContext): Promise<Identity> {
    const { issuer, claims } = await this.verifier.verify({
      app,
      issuers: app.settings.strategies.jwt.issuers,
      token: input.token,
      issuerId: input.issuer,
    });
    if (issuer.requirePublishableKeySubject) await this.assertPublishableKeySubject(app, claims);
    const subject = userIdFrom(claims, issuer.userIdClaim);
    if (issuer.singleUse) await this.consume(app, issuer, claims);
    const user = await this.dependencies.externalUsers.signIn(app, {
      provider: issuerProvider(issuer.id),
      subject,
      profile: profileFrom(claims, issuer.claims),
      autoProvision: issuer.autoProvision ?? app.settings.autoProvisionUsers,
      matchExistingUserBy: issuer.matchExistingUserBy,
      updateProfile: issuer.updateProfile,
      notProvisionedDetails: { strategy: 'jwt', issuer: issuer.id },
    });
    return { user };
  }

  /** ApiRTC's tokens name the app by its public key in `sub`; a key of another app, or a revoked one, does not do. */
  private async assertPublishableKeySubject(app: AppRecord, claims: Claims): Promise<void> {
    const { sub } = claims;
    const refused = new TokenRejected('claim_mismatch', "The token's sub is not a publishable key of this app.", {
      claim: 'sub',
    });
    if (typeof sub !== 'string' || parseOpaqueToken(sub)?.prefix !== 'pk') throw refused;
    try {
      await this.dependencies.apps.authenticateKey(app, sub);
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'invalid_api_key') throw refused;
      throw error;
    }
  }

  /**
   * The first use of a `jti` wins, on every node; the id is kept until the token would have
   * expired (the periodic maintenance job forgets it then).
   */
  private async consume(app: AppRecord, issuer: TrustedIssuerSettings, claims: Claims): Promise<void> {
    const { usedTokenIds } = this.dependencies.repositories;
    // The verifier has checked that a single-use token has a string jti and a numeric exp.
    const expiresAt = ((claims.exp as number) + issuer.clockSkew) * 1000;
    const first = await usedTokenIds.record({
      app_id: app.id,
      issuer: issuer.id,
      jti: claims.jti as string,
      expires_at: Math.min(Math.ceil(expiresAt), Number.MAX_SAFE_INTEGER),
    });
    if (!first) throw new TesseraError('token_replayed');
  }
}
