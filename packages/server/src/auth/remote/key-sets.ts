import type { Logger } from 'pino';
import { BoundedCache } from '../../lib/bounded-cache.js';
import type { Clock } from '../../lib/clock.js';
import { publicKeyProblem } from '../key-checks/public-key.js';
import { fetchJson, FetchJsonError, type FetchFailureReason } from './fetch-json.js';

/**
 * JSON Web Key Sets fetched from their URLs (trusted issuers' `jwks.url`, OpenID providers'
 * `jwks_uri`), as jose's `createRemoteJWKSet` keeps them, but with Tessera's key checks and one
 * bounded cache for every app:
 * - a set is used for `cacheMaxAgeMs`, then fetched again;
 * - a token whose `kid` the set lacks fetches it again, but never more than once per `cooldownMs`
 *   (a failed fetch counts too): a stream of made-up kids cannot make Tessera hammer the provider;
 * - while fetches fail, the last good set keeps serving, for `maxStaleMs` after it was fetched;
 * - every key passes the key checks (auth/key-checks) or is left out and logged at `warn`, the
 *   rest of the set staying usable.
 * Time is the injected clock's.
 */

export type Jwk = Record<string, unknown>;

export interface KeySetRequest {
  /** Who asks (app, issuer): sets of different scopes share nothing, so one app's traffic never affects another's. */
  scope: string;
  url: string;
  cacheMaxAgeMs: number;
  cooldownMs: number;
  timeoutMs: number;
  /** The key checks' opt-in: RSA public exponents accepted besides 65537. */
  rsaExponents?: readonly number[];
  /** The token's `kid`; one the set lacks fetches the set again, once per cooldown. */
  kid?: string | undefined;
  /** Facts the warning about a refused key carries besides `url`, `kid` and `reason` (strategy, app, issuer). */
  logFacts: Record<string, unknown>;
}

/** A fetched set: the keys that passed the key checks. The same object until the set is fetched again. */
export interface KeySet {
  keys: readonly Jwk[];
  fetchedAt: number;
}

export type KeySetFailureReason = FetchFailureReason | 'not_a_key_set';

/** No set can serve: the last fetch failed, and there is no earlier set young enough. */
export class KeySetUnavailable extends Error {
  override name = 'KeySetUnavailable';

  constructor(
    readonly url: string,
    readonly reason: KeySetFailureReason,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(status === undefined ? reason : `${reason} ${status}`, options);
  }
}

export interface KeySetsOptions {
  clock: Clock;
  logger: Logger;
  /** The message of the warning about a refused key, as the caller's documentation shows it. */
  refusedKeyMessage: string;
  /** Sets kept at once; past this, the least recently used is forgotten. */
  maxEntries?: number;
  /** How long after its fetch a set keeps serving while it cannot be fetched again. */
  maxStaleMs?: number;
}

interface Entry {
  set: KeySet | undefined;
  /** Every kid of the set, refused keys' included: a key already judged is not a reason to fetch again. */
  kids: ReadonlySet<unknown>;
  lastAttemptAt: number;
  lastFailure: KeySetUnavailable | undefined;
  pending: Promise<void> | undefined;
}

// Key sets are a few KiB; a provider answering megabytes is broken or hostile.
const MAX_BODY_BYTES = 256 * 1024;
const MAX_KEYS = 100;
const DAY_MS = 24 * 3600 * 1000;

export class KeySets {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly refusedKeyMessage: string;
  private readonly maxStaleMs: number;
  /** Kept without a TTL: an entry's own times say when its set is stale. */
  private readonly entries: BoundedCache<string, Entry>;

  constructor({ clock, logger, refusedKeyMessage, maxEntries = 1000, maxStaleMs = DAY_MS }: KeySetsOptions) {
    this.clock = clock;
    this.logger = logger;
    this.refusedKeyMessage = refusedKeyMessage;
    this.maxStaleMs = maxStaleMs;
    this.entries = new BoundedCache({ clock, maxEntries, ttlMs: Number.POSITIVE_INFINITY });
  }

  /** The set, fetched when absent, old, or lacking `kid` (cooldown permitting). Throws `KeySetUnavailable`. */
  async get(request: KeySetRequest): Promise<KeySet> {
    const entry = this.entryFor(request);
    const now = this.clock.now();
    const old = entry.set === undefined || now - entry.set.fetchedAt >= request.cacheMaxAgeMs;
    const missing = request.kid !== undefined && !entry.kids.has(request.kid);
    if (entry.pending !== undefined) await entry.pending;
    else if ((old || missing) && now - entry.lastAttemptAt >= request.cooldownMs) await this.refresh(entry, request);
    const { set } = entry;
    if (set === undefined || this.clock.now() - set.fetchedAt >= this.maxStaleMs)
      throw entry.lastFailure ?? new KeySetUnavailable(request.url, 'network');
    return set;
  }

  private entryFor(request: KeySetRequest): Entry {
    // The opt-in is part of the key: the same set judged under another policy is another set.
    const key = `${request.scope}\n${request.url}\n${(request.rsaExponents ?? []).join()}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = {
        set: undefined,
        kids: new Set(),
        lastAttemptAt: Number.NEGATIVE_INFINITY,
        lastFailure: undefined,
        pending: undefined,
      };
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** One fetch at a time per set; concurrent logins wait for the same answer. */
  private refresh(entry: Entry, request: KeySetRequest): Promise<void> {
    entry.pending ??= (async () => {
      entry.lastAttemptAt = this.clock.now();
      try {
        const fetched = await this.fetchSet(request);
        entry.set = { keys: this.usableKeys(fetched, request), fetchedAt: this.clock.now() };
        entry.kids = new Set(fetched.map((key) => key.kid));
        entry.lastFailure = undefined;
      } catch (error) {
        // lastAttemptAt is set: the cooldown now applies, and an older set keeps serving.
        entry.lastFailure = unavailable(request.url, error);
        const { reason, status } = entry.lastFailure;
        this.logger.warn({ ...request.logFacts, url: request.url, reason, status }, 'key set could not be fetched');
      } finally {
        entry.pending = undefined;
      }
    })();
    return entry.pending;
  }

  /** The set's JWKs (the first MAX_KEYS objects of `keys`), or a `not_a_key_set` failure. */
  private async fetchSet(request: KeySetRequest): Promise<Jwk[]> {
    const body = await fetchJson({
      url: request.url,
      accept: 'application/jwk-set+json, application/json',
      timeoutMs: request.timeoutMs,
      maxBytes: MAX_BODY_BYTES,
    });
    if (!isRecord(body) || !Array.isArray(body.keys)) throw new KeySetUnavailable(request.url, 'not_a_key_set');
    return (body.keys as unknown[]).filter(isRecord).slice(0, MAX_KEYS);
  }

  /** The keys that pass the key checks; each refused one is logged once per fetch. */
  private usableKeys(keys: Jwk[], request: KeySetRequest): Jwk[] {
    const policy = { rsaExponents: request.rsaExponents ?? [] };
    return keys.filter((key) => {
      // Symmetric and encryption keys never verify a signature here: left out, not judged.
      if (key.kty === 'oct' || key.use === 'enc') return false;
      const reason = publicKeyProblem(key, policy);
      if (reason === undefined) return true;
      const kid = typeof key.kid === 'string' ? key.kid.slice(0, 256) : undefined;
      this.logger.warn({ ...request.logFacts, url: request.url, kid, reason }, this.refusedKeyMessage);
      return false;
    });
  }
}

function unavailable(url: string, error: unknown): KeySetUnavailable {
  if (error instanceof KeySetUnavailable) return error;
  if (error instanceof FetchJsonError) return new KeySetUnavailable(url, error.reason, error.status, { cause: error });
  return new KeySetUnavailable(url, 'network', undefined, { cause: error });
}

function isRecord(value: unknown): value is Jwk {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
