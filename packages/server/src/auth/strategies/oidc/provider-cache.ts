import type { Logger } from 'pino';
import { BoundedCache } from '../../../lib/bounded-cache.js';
import type { Clock } from '../../../lib/clock.js';
import { loadKeys, loadMetadata, type ProviderKeys, type ProviderMetadata } from './discovery.js';
import { providerUnreachable } from './errors.js';
import type { OidcProviderSettings } from './settings.js';

/** A provider as last fetched for one app: its discovery document and its keys. */
export interface ProviderState {
  metadata: ProviderMetadata;
  keys: ProviderKeys;
  /** When the discovery document was fetched. */
  loadedAt: number;
  /** When the keys were last fetched. */
  keysLoadedAt: number;
}

export interface ProviderCacheOptions {
  /** The shortest time between two key fetches caused by an unknown key id. */
  unknownKeyCooldownMs?: number;
  /** How many (app, issuer) entries are kept; the least recently used go first. */
  maxEntries?: number;
}

/**
 * Discovery documents and key sets of OpenID providers, per app and issuer. Entries are kept for
 * the provider's `discoveryCacheSeconds`; concurrent logins share one fetch. Keyed by app so that
 * one app's settings and traffic (timeouts, unknown key ids) never affect another app.
 */
export class ProviderCache {
  /** Kept without a TTL: `get` compares `loadedAt` with the provider's own cache lifetime. */
  private readonly entries: BoundedCache<string, ProviderState>;
  /** Fetches under way: one per (app, issuer) of the apps' settings, never more. */
  private readonly pending = new Map<string, Promise<ProviderState>>();
  private readonly cooldownMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    { unknownKeyCooldownMs = 30_000, maxEntries = 1000 }: ProviderCacheOptions = {},
  ) {
    this.cooldownMs = unknownKeyCooldownMs;
    this.entries = new BoundedCache({ clock, maxEntries, ttlMs: Number.POSITIVE_INFINITY });
  }

  /** The provider's state, fetched when absent or older than its cache lifetime. Throws `idp_unreachable`. */
  async get(appId: string, provider: OidcProviderSettings): Promise<ProviderState> {
    const key = cacheKey(appId, provider.issuer);
    const cached = this.entries.get(key);
    if (cached !== undefined && this.clock.now() - cached.loadedAt < provider.discoveryCacheSeconds * 1000)
      return cached;
    return this.once(key, () => this.load(provider));
  }

  /**
   * Fetches the keys again because a token names a key the cached set lacks (the provider rotated
   * its keys). Returns undefined when the keys were fetched too recently: a stream of tokens with
   * made-up key ids must not turn into a stream of requests to the provider.
   */
  async refreshKeys(
    appId: string,
    provider: OidcProviderSettings,
    current: ProviderState,
  ): Promise<ProviderState | undefined> {
    if (this.clock.now() - current.keysLoadedAt < this.cooldownMs) return undefined;
    const key = cacheKey(appId, provider.issuer);
    return this.once(key, async () => {
      const keys = await this.fetchKeys(provider, current.metadata.jwksUri);
      return { ...current, keys, keysLoadedAt: this.clock.now() };
    });
  }

  private async load(provider: OidcProviderSettings): Promise<ProviderState> {
    let metadata: ProviderMetadata;
    try {
      metadata = await loadMetadata(provider.issuer, provider.timeoutMs);
    } catch (error) {
      throw providerUnreachable(provider.issuer, 'discovery', error);
    }
    const keys = await this.fetchKeys(provider, metadata.jwksUri);
    const now = this.clock.now();
    return { metadata, keys, loadedAt: now, keysLoadedAt: now };
  }

  private async fetchKeys(provider: OidcProviderSettings, jwksUri: string): Promise<ProviderKeys> {
    let keys: ProviderKeys;
    try {
      keys = await loadKeys(jwksUri, provider.timeoutMs);
    } catch (error) {
      throw providerUnreachable(provider.issuer, 'jwks', error);
    }
    for (const { kid, reason } of keys.refused) {
      this.logger.warn(
        { strategy: 'oidc', issuer: provider.issuer, url: jwksUri, kid, reason },
        'OpenID provider key refused by the key checks; the other keys of the set stay usable',
      );
    }
    return keys;
  }

  /** Runs `fetch` once for concurrent callers, and stores what it gives. */
  private once(key: string, fetch: () => Promise<ProviderState>): Promise<ProviderState> {
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const promise = fetch()
      .then((state) => {
        this.store(key, state);
        return state;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return promise;
  }

  private store(key: string, state: ProviderState): void {
    this.entries.set(key, state);
  }
}

function cacheKey(appId: string, issuer: string): string {
  return `${appId} ${issuer}`;
}
