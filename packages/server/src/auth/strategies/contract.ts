import type { TSchema, Static } from 'typebox';
import type { AppRecord, SessionRecord, UserRecord } from '../../store/repositories/index.js';
import type { OperationLimitName } from '../limits/settings.js';
import type { Renewal } from '../sessions/reconnect-tokens.js';
import type { ClientInfo } from '../sessions/session-service.js';

/** What a strategy proves: which user is logging in, and whether it resumes a session. */
export interface Identity {
  user: UserRecord;
  /** Set when the strategy continues an existing session instead of starting a new one. */
  resumes?: SessionRecord;
  /** The token presented to continue it: issuing the new tokens spends a reconnect token (see `ReconnectTokens`). */
  renewal?: Renewal;
}

export interface StrategyContext {
  app: AppRecord;
  client: ClientInfo;
}

/** What a strategy declares; the authenticator enforces it for every transport. */
export interface StrategyLimits<Input> {
  /** Every attempt counts against this limit, before the strategy runs. */
  readonly attempts?: OperationLimitName;
  /** The id a per-token count is kept under (a reconnect token's), when the input names one. */
  tokenIdOf?(input: Input): string | undefined;
  /** A failed attempt is a guess at a credential: failures count against `failedCredentials`. */
  readonly guesses?: boolean;
}

/**
 * One way of logging in. A strategy validates its own input (by `input`, a schema whose
 * `strategy` property is the strategy's name) and proves an identity, or throws a
 * TesseraError. It never creates sessions or tokens: the authenticator does that for all.
 * A strategy that resumes sessions (`Identity.resumes`) implements `peekResumedUser`.
 */
export interface Strategy<Input extends TSchema = TSchema> {
  readonly name: string;
  readonly input: Input;
  /** The abuse limits a login by this strategy is subject to (see auth/limits/); none when absent. */
  readonly limits?: StrategyLimits<Static<Input>>;
  authenticate(input: Static<Input>, context: StrategyContext): Promise<Identity>;
  /**
   * The id of the user whose session `input` would resume, found without spending or counting
   * anything, or undefined: so that a transport refuses a login it would refuse anyway (a socket
   * over the user's limit) before a single-use token is rotated away. The registry's list of
   * resuming strategies is the strategies that have it.
   */
  peekResumedUser?(input: Static<Input>, context: StrategyContext): Promise<string | undefined>;
}
