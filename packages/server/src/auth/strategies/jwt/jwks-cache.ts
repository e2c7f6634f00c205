import { TesseraError } from '../../../errors.js';
import { KeySetUnavailable, type Jwk, type KeySets } from '../../remote/key-sets.js';

/**
 * A trusted issuer's `jwks` settings read as a key-set request (auth/remote/key-sets.ts keeps,
 * refreshes and checks the sets), and a set that cannot serve answered as `idp_unreachable`.
 */

export interface JwksSource {
  url: string;
  /** Seconds. */
  cacheMaxAge: number;
  cooldown: number;
  timeout: number;
  rsaExponents?: readonly number[] | undefined;
}

export type { Jwk };

/** Who asks, for the cache's scope and for the warning about a refused key. */
export interface JwksAsker {
  appId: string;
  appPath: string;
  issuerId: string;
}

export class JwksCache {
  constructor(private readonly keySets: KeySets) {}

  /** The keys of the set that passed the key checks; throws `idp_unreachable` when no set can serve. */
  async keys(asker: JwksAsker, source: JwksSource, kid: string | undefined): Promise<readonly Jwk[]> {
    try {
      const set = await this.keySets.get({
        scope: `${asker.appId}\n${asker.issuerId}`,
        url: source.url,
        cacheMaxAgeMs: source.cacheMaxAge * 1000,
        cooldownMs: source.cooldown * 1000,
        timeoutMs: Math.round(source.timeout * 1000),
        rsaExponents: source.rsaExponents ?? [],
        kid,
        logFacts: { app: asker.appPath, issuer: asker.issuerId, strategy: 'jwt' },
      });
      return set.keys;
    } catch (error) {
      if (!(error instanceof KeySetUnavailable)) throw error;
      throw new TesseraError('idp_unreachable', {
        message: "The issuer's key set could not be fetched.",
        details: {
          jwks: source.url,
          reason: error.reason,
          ...(error.status === undefined ? {} : { status: error.status }),
        },
      });
    }
  }
}
