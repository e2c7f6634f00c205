import { AccessTokenLoginBodySchema as AccessTokenInput } from '@tessera/protocol';
import { decodeJwt } from 'jose';
import type { Static } from 'typebox';
import type { SessionService } from '../../sessions/session-service.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';

/**
 * Re-authenticates with a still-valid access token, continuing its session (Feathers' `jwt`
 * strategy, which is what Feathers' client uses for `reAuthenticate`).
 */
export class AccessTokenStrategy implements Strategy<typeof AccessTokenInput> {
  readonly name = 'access-token';
  readonly input = AccessTokenInput;
  readonly limits = { guesses: true } as const;

  constructor(private readonly sessions: SessionService) {}

  async authenticate(input: Static<typeof AccessTokenInput>, { app }: StrategyContext): Promise<Identity> {
    const { user, session, claims } = await this.sessions.authenticate(app, input.accessToken);
    return { user, resumes: session, renewal: { accessTokenId: claims.jti } };
  }

  /** Read unverified: the login verifies the token; a forged `sub` can only get its own sender refused. */
  async peekResumedUser({ accessToken }: { accessToken: string }): Promise<string | undefined> {
    try {
      return decodeJwt(accessToken).sub;
    } catch {
      return undefined;
    }
  }
}
