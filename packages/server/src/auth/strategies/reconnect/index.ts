import Type from 'typebox';
import { parseOpaqueToken } from '../../../lib/opaque-token.js';
import type { ReconnectTokens } from '../../sessions/reconnect-tokens.js';
import type { Identity, Strategy, StrategyContext, StrategyLimits } from '../contract.js';

const ReconnectInput = Type.Object(
  { strategy: Type.Literal('reconnect'), token: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false, description: 'A reconnect token from an earlier authentication; single use.' },
);

/** Resumes a session with its single-use reconnect token (Convergence's reconnect token). */
export class ReconnectStrategy implements Strategy<typeof ReconnectInput> {
  readonly name = 'reconnect';
  readonly input = ReconnectInput;
  readonly limits: StrategyLimits<{ token: string }> = {
    attempts: 'reconnect',
    tokenIdOf: ({ token }) => parseOpaqueToken(token)?.id,
    guesses: true,
  };

  constructor(private readonly tokens: ReconnectTokens) {}

  async authenticate(input: { token: string }, { app }: StrategyContext): Promise<Identity> {
    const { session, user, presented } = await this.tokens.check(app, input.token);
    return { user, resumes: session, renewal: { reconnectToken: presented } };
  }
}
