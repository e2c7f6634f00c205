import { ReconnectLoginBodySchema as ReconnectInput } from '@tessera/protocol';
import type { Static } from 'typebox';
import { parseOpaqueToken } from '../../../lib/opaque-token.js';
import type { AbuseLimiter } from '../../limits/abuse-limiter.js';
import type { ReconnectTokens } from '../../sessions/reconnect-tokens.js';
import type { Identity, Strategy, StrategyContext, StrategyLimits } from '../contract.js';

/** Resumes a session with its single-use reconnect token (Convergence's reconnect token). */
export class ReconnectStrategy implements Strategy<typeof ReconnectInput> {
  readonly name = 'reconnect';
  readonly input = ReconnectInput;
  readonly limits: StrategyLimits<Static<typeof ReconnectInput>> = {
    attempts: 'reconnect',
    tokenIdOf: ({ token }) => parseOpaqueToken(token)?.id,
    guesses: true,
  };

  constructor(
    private readonly tokens: ReconnectTokens,
    private readonly limiter: AbuseLimiter,
  ) {}

  async authenticate(input: Static<typeof ReconnectInput>, { app }: StrategyContext): Promise<Identity> {
    const { session, user, presented } = await this.tokens.check(app, input.token);
    return { user, resumes: session, renewal: { reconnectToken: presented } };
  }

  async peekResumedUser({ token }: { token: string }, { app, client }: StrategyContext): Promise<string | undefined> {
    // A refused guesser is turned away before its token is even looked up.
    this.limiter.assertNotGuessing({ app, ip: client.ip }, 'address-and-app');
    return (await this.tokens.ownerOf(token))?.userId;
  }
}
