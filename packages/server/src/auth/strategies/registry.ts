import { TesseraError } from '../../errors.js';
import { matchesSchema, parseWithSchema } from '../../lib/validate.js';
import type { AppRecord } from '../../store/repositories/index.js';
import type { Strategy, StrategyContext } from './contract.js';
import type { StrategyName } from './settings.js';

export interface ResolvedStrategy {
  strategy: Strategy;
  input: unknown;
}

/** The strategies this server knows, and which of them an app has switched on. */
export class StrategyRegistry {
  private readonly byName: ReadonlyMap<string, Strategy>;

  constructor(strategies: readonly Strategy[]) {
    this.byName = new Map(strategies.map((strategy) => [strategy.name, strategy]));
  }

  get all(): Strategy[] {
    return [...this.byName.values()];
  }

  /** The strategies that continue an existing session rather than start one (see `Strategy.peekResumedUser`). */
  get resuming(): string[] {
    return this.all.filter((strategy) => strategy.peekResumedUser !== undefined).map((strategy) => strategy.name);
  }

  /** Picks the strategy a login body names, checks the app allows it, and validates its input. */
  resolve(app: AppRecord, body: unknown): ResolvedStrategy {
    const input = feathersCompatible(body);
    const name = strategyNameOf(input);
    if (typeof name !== 'string')
      throw new TesseraError('invalid_request', {
        message: 'Name the login strategy.',
        details: [{ path: '/strategy', message: 'required' }],
      });
    const strategy = this.byName.get(name);
    if (strategy === undefined)
      throw new TesseraError('unknown_strategy', {
        details: { strategy: name.slice(0, 64), known: [...this.byName.keys()] },
      });
    if (!isEnabled(app, name)) throw new TesseraError('strategy_disabled', { details: { strategy: name } });
    return { strategy, input: parseWithSchema(strategy.input, input) };
  }

  /**
   * The id of the user whose session a login body would resume, when that can be known without
   * spending anything; undefined for a login that starts a session, or whose body the login will
   * refuse (it says why, so this never throws for a bad body).
   */
  async peekResumedUser(body: unknown, context: StrategyContext): Promise<string | undefined> {
    const input = feathersCompatible(body);
    const name = strategyNameOf(input);
    const strategy = typeof name === 'string' ? this.byName.get(name) : undefined;
    if (strategy?.peekResumedUser === undefined || !matchesSchema(strategy.input, input)) return undefined;
    return strategy.peekResumedUser(input, context);
  }
}

function strategyNameOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null && 'strategy' in body ? body.strategy : undefined;
}

function isEnabled(app: AppRecord, name: string): boolean {
  return Object.hasOwn(app.settings.strategies, name) && app.settings.strategies[name as StrategyName].enabled;
}

/**
 * Feathers' authentication client re-authenticates with `{ strategy: 'jwt', accessToken }`.
 * Tessera's `jwt` strategy takes an external issuer's `token`; a body naming `jwt` with an
 * `accessToken` is Feathers asking to continue its session, so it goes to `access-token`.
 */
function feathersCompatible(body: unknown): unknown {
  if (
    typeof body === 'object' &&
    body !== null &&
    'strategy' in body &&
    body.strategy === 'jwt' &&
    'accessToken' in body &&
    !('token' in body)
  ) {
    return { ...body, strategy: 'access-token' };
  }
  return body;
}
