import { TesseraError } from '../../../errors.js';
import { BoundedCache } from '../../../lib/bounded-cache.js';
import type { Clock } from '../../../lib/clock.js';

/**
 * Key sets of trusted issuers, fetched from their JWKS URLs and kept for `cacheMaxAge`.
 * A token whose `kid` is not in the set triggers a fetch, but never more than one per
 * `cooldown`: a stream of tokens with made-up kids cannot make Tessera hammer the issuer.
 * A failed fetch counts as a fetch too, and while it is recent the previous set (if any, and
 * not older than a day) keeps serving. Only a 200 answer is used; redirects are refused, the
 * wait is bounded and so is the size of the answer. Time is the injected clock's.
 */

export interface JwksSource {
  url: string;
  /** Seconds. */
  cacheMaxAge: number;
  cooldown: number;
  timeout: number;
}

export type Jwk = Record<string, unknown>;

/** Past this, a set that can no longer be refreshed is not trusted any more. */
const MAX_STALE_MS = 24 * 3600 * 1000;
const MAX_BODY_BYTES = 256 * 1024;
const MAX_KEYS = 100;
/** Sets kept at once; past this, the least recently used set is forgotten first. */
const MAX_ENTRIES = 1000;

/** Why the last fetch failed, as `idp_unreachable` reports it. */
export interface JwksFailure {
  reason: 'timeout' | 'redirect' | 'network' | 'status' | 'too_large' | 'not_json' | 'not_a_key_set';
  status?: number;
}

interface Entry {
  keys: Jwk[] | undefined;
  fetchedAt: number;
  lastAttemptAt: number;
  lastFailure: JwksFailure | undefined;
  pending: Promise<void> | undefined;
}

class FetchFailed extends Error {
  constructor(readonly failure: JwksFailure) {
    super(failure.reason);
  }
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export class JwksCache {
  /** Kept without a TTL: an entry's own times say when its set is stale. */
  private readonly entries: BoundedCache<string, Entry>;

  constructor(
    private readonly clock: Clock,
    private readonly fetchImpl: FetchLike = (url, init) => fetch(url, init),
  ) {
    this.entries = new BoundedCache({ clock, maxEntries: MAX_ENTRIES, ttlMs: Number.POSITIVE_INFINITY });
  }

  /**
   * The keys of the set, refreshed when old, or when `kid` is not among them and the cooldown
   * allows. `cacheKey` separates apps and issuers that happen to share a URL.
   */
  async keys(cacheKey: string, source: JwksSource, kid: string | undefined): Promise<Jwk[]> {
    let entry = this.entries.get(cacheKey);
    if (entry === undefined) {
      entry = {
        keys: undefined,
        fetchedAt: 0,
        lastAttemptAt: Number.NEGATIVE_INFINITY,
        lastFailure: undefined,
        pending: undefined,
      };
      this.entries.set(cacheKey, entry);
    }
    const now = this.clock.now();
    const stale = entry.keys === undefined || now - entry.fetchedAt >= source.cacheMaxAge * 1000;
    const missing = kid !== undefined && !entry.keys?.some((key) => key.kid === kid);
    if (entry.pending !== undefined) await entry.pending;
    else if ((stale || missing) && now - entry.lastAttemptAt >= source.cooldown * 1000)
      await this.refresh(entry, source);
    if (entry.keys === undefined || this.clock.now() - entry.fetchedAt >= MAX_STALE_MS) {
      throw new TesseraError('idp_unreachable', {
        message: "The issuer's key set could not be fetched.",
        details: { jwks: source.url, ...entry.lastFailure },
      });
    }
    return entry.keys;
  }

  /** One fetch at a time per set; concurrent logins wait for the same answer. */
  private refresh(entry: Entry, source: JwksSource): Promise<void> {
    entry.pending ??= (async () => {
      entry.lastAttemptAt = this.clock.now();
      try {
        entry.keys = await this.fetchKeys(source);
        entry.fetchedAt = this.clock.now();
        entry.lastFailure = undefined;
      } catch (error) {
        // lastAttemptAt is set: the cooldown now applies, and an older set keeps serving.
        entry.lastFailure = failureOf(error);
      } finally {
        entry.pending = undefined;
      }
    })();
    return entry.pending;
  }

  private async fetchKeys(source: JwksSource): Promise<Jwk[]> {
    const response = await this.fetchImpl(source.url, {
      method: 'GET',
      redirect: 'error',
      signal: AbortSignal.timeout(Math.round(source.timeout * 1000)),
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new FetchFailed({ reason: 'status', status: response.status });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBounded(response, MAX_BODY_BYTES));
    } catch (error) {
      if (
        error instanceof FetchFailed ||
        (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
      )
        throw error;
      throw new FetchFailed({ reason: 'not_json' });
    }
    if (typeof body !== 'object' || body === null || !('keys' in body) || !Array.isArray(body.keys))
      throw new FetchFailed({ reason: 'not_a_key_set' });
    return (body.keys as unknown[])
      .filter((key): key is Jwk => typeof key === 'object' && key !== null && !Array.isArray(key))
      .slice(0, MAX_KEYS);
  }
}

async function readBounded(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await response.body?.cancel();
    throw new FetchFailed({ reason: 'too_large' });
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body === null) return '';
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new FetchFailed({ reason: 'too_large' });
    chunks.push(chunk);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
}

function failureOf(error: unknown): JwksFailure {
  if (error instanceof FetchFailed) return error.failure;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return { reason: 'timeout' };
  // undici reports a refused redirect as "fetch failed" caused by "unexpected redirect".
  if (error instanceof Error && error.cause instanceof Error && /redirect/i.test(error.cause.message))
    return { reason: 'redirect' };
  return { reason: 'network' };
}
