import type { ErrorCode } from '@tessera/protocol';
import type { Logger } from 'pino';
import Value from 'typebox/value';
import type { EphemeralStore } from '../../cluster/index.js';
import { TesseraError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import type { MaybePromise } from '../../lib/maybe-promise.js';
import type { AppRecord } from '../../store/repositories/index.js';
import { addressGroup } from './address-group.js';
import { RefusalMemory } from './refusal-memory.js';
import { RateLimitsSettings, type OperationLimitName } from './settings.js';

/** Who is calling: the app addressed (none for the admin API) and the client's address. */
export interface Caller {
  app: AppRecord | null;
  ip: string | null;
}

/** Whether failed checks also count against the app's total: for logins, not for every authenticated call. */
export type GuessScope = 'address' | 'address-and-app';

/** Failures that say a presented credential is not one: from outside, a guess. */
const GUESS_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_token',
  'invalid_api_key',
  'invalid_admin_token',
  'invalid_credentials',
  'idp_rejected',
  'token_replayed',
]);

/** The admin API belongs to no app: its guesses are counted with the defaults. */
const DEFAULT_LIMITS = Value.Default(RateLimitsSettings, {}) as RateLimitsSettings;

interface Counter {
  key: string;
  max: number;
}

/**
 * The abuse limits of unauthenticated writes and credential guessing, for REST and the realtime
 * gateway alike: fixed windows counted with the ephemeral store's atomic `incrWithTtl` (Redis in
 * a cluster, so every node counts the same). A fixed window costs one round trip per counter and
 * lets at most twice the limit through around a window's edge, which is enough for limits that
 * are about capacity rather than secrecy (passwords have their own throttle, auth/throttle/).
 * Not @fastify/rate-limit: it limits HTTP routes only, while the realtime gateway's frames must
 * meet the same counts, and its Redis store is this same INCR-and-expire fixed window.
 *
 * Operations (signup, anonymous and guest logins, refreshes) count every attempt before the work.
 * Guesses count failures only: a caller over its limit is then refused from this node's memory
 * before any check, so a valid token pays no round trip, and each other node learns of the
 * refusal from the caller's next failure there.
 */
export class AbuseLimiter {
  private readonly refusals: RefusalMemory;
  /** Whether the store's failure was logged: once per outage, not once per request. */
  private storeDownLogged = false;

  constructor(
    private readonly store: EphemeralStore,
    clock: Clock,
    private readonly logger: Logger,
  ) {
    this.refusals = new RefusalMemory(clock);
  }

  /**
   * Counts one attempt of an operation against the caller's address, the app and, for a
   * reconnect token, the token's id; throws `rate_limited` when one of them is over. An address
   * over its limit does not eat into the app's count.
   */
  async consume(app: AppRecord, name: OperationLimitName, ip: string | null, tokenId?: string): Promise<void> {
    const limit = app.settings.rateLimits[name];
    const counters: Counter[] = [];
    if (ip !== null)
      counters.push({ key: `limit:${name}:address:${app.id}:${addressGroup(ip)}`, max: limit.perAddress });
    if (tokenId !== undefined && 'perToken' in limit)
      counters.push({ key: `limit:${name}:token:${app.id}:${tokenId}`, max: limit.perToken });
    counters.push({ key: `limit:${name}:app:${app.id}`, max: limit.perApp });
    for (const counter of counters) {
      const retryAfterMs = await this.count(counter, limit.window);
      if (retryAfterMs !== undefined)
        throw rateLimited(retryAfterMs, 'Too many requests of this kind; wait before trying again.');
    }
  }

  /**
   * Runs a credential check for a caller. While the caller is over its limit of failed checks it
   * is refused at once, without the check; a failure that says the credential was not one counts
   * against the limit, and past it the answer is `rate_limited` instead.
   */
  checked<T>(caller: Caller, scope: GuessScope, check: () => MaybePromise<T>): MaybePromise<T> {
    this.assertNotGuessing(caller, scope);
    let result: MaybePromise<T>;
    try {
      result = check();
    } catch (error) {
      return this.failed(caller, scope, error);
    }
    return result instanceof Promise ? result.catch((error: unknown) => this.failed(caller, scope, error)) : result;
  }

  /** Refuses, from this node's memory, a caller whose failed checks are over the limit. */
  assertNotGuessing(caller: Caller, scope: GuessScope): void {
    // The common case, on every authenticated request: nobody is being refused.
    if (this.refusals.size === 0) return;
    for (const { key } of guessCounters(caller, scope)) {
      const remainingMs = this.refusals.remaining(key);
      if (remainingMs !== undefined)
        throw rateLimited(remainingMs, 'Too many invalid credentials; wait before trying again.');
    }
  }

  /** Counts a failed check if it was a guess, then throws: the failure, or `rate_limited` past the limit. */
  private async failed(caller: Caller, scope: GuessScope, error: unknown): Promise<never> {
    if (!(error instanceof TesseraError) || !GUESS_CODES.has(error.code)) throw error;
    for (const counter of guessCounters(caller, scope)) {
      const retryAfterMs = await this.count(counter, guessLimitOf(caller).window);
      if (retryAfterMs !== undefined) {
        this.refusals.remember(counter.key, retryAfterMs);
        throw rateLimited(retryAfterMs, 'Too many invalid credentials; wait before trying again.');
      }
    }
    throw error;
  }

  /**
   * Adds one to a counter; the milliseconds until its window ends when it went over its maximum.
   * Without the store the limits cannot count: the request goes through (they protect capacity,
   * and refusing every refresh while Redis is away would disconnect an app's users).
   */
  private async count({ key, max }: Counter, windowSeconds: number): Promise<number | undefined> {
    if (max === 0) return undefined;
    try {
      const count = await this.store.incrWithTtl(key, windowSeconds * 1000);
      this.storeDownLogged = false;
      if (count <= max) return undefined;
      return (await this.store.ttl(key)) ?? windowSeconds * 1000;
    } catch (error) {
      if (!this.storeDownLogged)
        this.logger.warn({ err: error }, 'abuse limits are not counted while the ephemeral store is unreachable');
      this.storeDownLogged = true;
      return undefined;
    }
  }
}

function guessLimitOf(caller: Caller): RateLimitsSettings['failedCredentials'] {
  return caller.app?.settings.rateLimits.failedCredentials ?? DEFAULT_LIMITS.failedCredentials;
}

/** The counters of a caller's failed checks: its address's within the app (or the admin API), and the app's. */
function guessCounters(caller: Caller, scope: GuessScope): Counter[] {
  const limit = guessLimitOf(caller);
  const appId = caller.app?.id ?? 'admin';
  const counters =
    caller.ip === null ? [] : [{ key: `guess:address:${appId}:${addressGroup(caller.ip)}`, max: limit.perAddress }];
  if (scope === 'address-and-app' && caller.app !== null)
    counters.push({ key: `guess:app:${appId}`, max: limit.perApp });
  return counters;
}

/** Retry-After on REST; in the details too, for the realtime error frame, which has no headers. */
function rateLimited(remainingMs: number, message: string): TesseraError {
  const retryAfterSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
  return new TesseraError('rate_limited', { message, retryAfterSeconds, details: { retryAfterSeconds } });
}
