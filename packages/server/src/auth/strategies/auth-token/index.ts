import { AuthTokenLoginBodySchema as AuthTokenInput } from '@tessera/protocol';
import type { Static } from 'typebox';
import type { AuthTokenService } from '../../tokens/auth-tokens.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';

/** Logs a user in with a per-user auth token made by the app's backend. */
export class AuthTokenStrategy implements Strategy<typeof AuthTokenInput> {
  readonly name = 'auth-token';
  readonly input = AuthTokenInput;
  readonly limits = { guesses: true } as const;

  constructor(private readonly authTokens: AuthTokenService) {}

  async authenticate(input: Static<typeof AuthTokenInput>, { app }: StrategyContext): Promise<Identity> {
    return { user: await this.authTokens.authenticate(app, input.token) };
  }
}
