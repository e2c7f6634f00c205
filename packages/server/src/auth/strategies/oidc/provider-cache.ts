import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { BoundedCache } from '../../../lib/bounded-cache.js';
import type { Clock } from '../../../lib/clock.js';
import { KeySets, type KeySet } from '../../remote/key-sets.js';
import { loadMetadata, type ProviderMetadata } from './discovery.js';
import { providerUnreachable } from './errors.js';
import type { OidcProviderSettings } from './settings.js';

/** A provider as last fetched for one app: its discovery document and its keys, ready for jose. */
export interface ProviderState {
  metadata: ProviderMetadata;
  getKey: JWTVerifyGetKey;
}

export interface ProviderCacheOptions {
  /** The shortest time between two key fetches caused by an unknown key id. */
  unknownKeyCooldownMs?: number;
  /** How many (app, issuer) entries are kept; the least recently used go first. */
  maxEntries?: number;
}

interface Discovered {
  metadata: ProviderMetadata;
  loadedAt: number;
}

/**
 * Discovery documents of OpenID providers, per app and issuer, kept for the provider's
 * `discoveryCacheSeconds`; their key sets are kept, refreshed and checked by auth/remote/key-sets.ts.
 * Concurrent logins share one fetch. Keyed by app so that one app's settings and traffic
 * (timeouts, unknown key ids) never affect another app.
 */
export class ProviderCache {
  /** Kept without a TTL: `metadata` compares `loadedAt` with the provider's own cache lifetime. */
  private readonly documents: BoundedCache<string, Discovered>;
  /** Fetches under way: one per (app, issuer) of the apps' settings, never more. */
  private readonly pending = new Map<string, Promise<Discovered>>();
  private readonly keySets: KeySets;
  /** jose's view of each fetched set, made once per set. */
  private readonly getKeys = new WeakMap<KeySet, JWTVerifyGetKey>();
  private readonly cooldownMs: number;

  constructor(
    private readonly clock: Clock,
    logger: Logger,
    { unknownKeyCooldownMs = 30_000, maxEntries = 1000 }: ProviderCacheOptions = {},
  ) {
    this.cooldownMs = unknownKeyCooldownMs;
    this.documents = new BoundedCache({ clock, maxEntries, ttlMs: Number.POSITIVE_INFINITY });
    this.keySets = new KeySets({
      clock,
      logger,
      maxEntries,
      refusedKeyMessage: 'OpenID provider key refused by the key checks; the other keys of the set stay usable',
    });
  }

  /**
   * The provider's document and keys, each fetched when absent or older than its cache lifetime;
   * a `kid` the keys lack fetches them again, at most once per cooldown. Throws `idp_unreachable`.
   */
  async get(appId: string, provider: OidcProviderSettings, kid: string | undefined): Promise<ProviderState> {
    const { metadata } = await this.discovered(appId, provider);
    let set: KeySet;
    try {
      set = await this.keySets.get({
        scope: `${appId} ${provider.issuer}`,
        url: metadata.jwksUri,
        cacheMaxAgeMs: provider.discoveryCacheSeconds * 1000,
        cooldownMs: this.cooldownMs,
        timeoutMs: provider.timeoutMs,
        kid,
        logFacts: { strategy: 'oidc', issuer: provider.issuer },
      });
    } catch (error) {
      throw providerUnreachable(provider.issuer, 'jwks', error);
    }
    return { metadata, getKey: this.getKeyOf(set) };
  }

  private getKeyOf(set: KeySet): JWTVerifyGetKey {
    let getKey = this.getKeys.get(set);
    if (getKey === undefined) {
      // The set's keys are objects that passed the key checks: jose accepts the set as it is.
      getKey = createLocalJWKSet({ keys: [...set.keys] });
      this.getKeys.set(set, getKey);
    }
    return getKey;
  }

  private discovered(appId: string, provider: OidcProviderSettings): Promise<Discovered> {
    const key = `${appId} ${provider.issuer}`;
    const cached = this.documents.get(key);
    if (cached !== undefined && this.clock.now() - cached.loadedAt < provider.discoveryCacheSeconds * 1000)
      return Promise.resolve(cached);
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const promise = this.load(provider)
      .then((discovered) => {
        this.documents.set(key, discovered);
        return discovered;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return promise;
  }

  private async load(provider: OidcProviderSettings): Promise<Discovered> {
    try {
      return { metadata: await loadMetadata(provider.issuer, provider.timeoutMs), loadedAt: this.clock.now() };
    } catch (error) {
      throw providerUnreachable(provider.issuer, 'discovery', error);
    }
  }
}
