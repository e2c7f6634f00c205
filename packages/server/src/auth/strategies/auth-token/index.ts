import Type from 'typebox';
import type { AuthTokenService } from '../../tokens/auth-tokens.js';
import type { Identity, Strategy, StrategyContext } from '../contract.js';

const AuthTokenInput = Type.Object(
  {
    strategy: Type.Literal('auth-token'),
    token: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'An `at_…` token the app’s backend made for the user.',
    }),
  },
  {
    additionalProperties: false,
    description: 'A long-lived auth token made with the secret key (CometChat’s auth token login).',
  },
);

/** Logs a user in with a per-user auth token made by the app's backend. */
export class AuthTokenStrategy implements Strategy<typeof AuthTokenInput> {
  readonly name = 'auth-token';
  readonly input = AuthTokenInput;
  readonly limits = { guesses: true } as const;

  constructor(private readonly authTokens: AuthTokenService) {}

  async authenticate(input: { token: string }, { app }: StrategyContext): Promise<Identity> {
    return { user: await this.authTokens.authenticate(app, input.token) };
  }
}
