import { createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { VerifierError } from './errors.js';

/**
 * How the app's public keys are fetched and kept; jose's remote key set does the work.
 *
 * @example
 * ```ts
 * createVerifier({ url, app: 'acme/chat', keys: { maxAgeMs: 60_000, cooldownMs: 5_000, timeoutMs: 2_000 } });
 * ```
 */
export interface KeySetOptions {
  /** How long fetched keys are used before they are fetched again; default 300 000 (Tessera's `max-age`). */
  maxAgeMs?: number;
  /**
   * After a fetch, how long a token naming an unknown key (`kid`) waits for the next one; default
   * 10 000. Bounds the fetches that made-up tokens cause.
   */
  cooldownMs?: number;
  /** How long a fetch may take; default 5 000. */
  timeoutMs?: number;
}

/** The app's keys: `getKey` for `jwtVerify`, `reload` to fetch them at once (the feed says a key was rotated in). */
export interface RemoteKeySet {
  getKey: JWTVerifyGetKey;
  reload(): Promise<void>;
}

/**
 * The key resolver `jwtVerify` calls, with failures turned into Tessera's codes: a key set that
 * cannot be fetched is `unavailable` (retry later), and so is a key that is not in a set fetched
 * within the cooldown (it may be a key rotated in since); a key missing from a fresh fetch means
 * the token is not this app's (`invalid_token`).
 */
export function remoteKeySet(jwksUrl: URL, options: KeySetOptions = {}): RemoteKeySet {
  const keys = createRemoteJWKSet(jwksUrl, {
    cacheMaxAge: options.maxAgeMs ?? 300_000,
    cooldownDuration: options.cooldownMs ?? 10_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
  });
  const getKey: JWTVerifyGetKey = async (header, token) => {
    const coolingDown = keys.coolingDown;
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey) {
        if (!coolingDown) throw new VerifierError('invalid_token', { message: 'No key of this app signed the token.' });
        throw new VerifierError('unavailable', {
          message: "The token's signing key is not among the app's keys fetched moments ago; retry shortly.",
        });
      }
      if (error instanceof joseErrors.JWKSMultipleMatchingKeys) throw new VerifierError('invalid_token');
      throw new VerifierError('unavailable', { message: "The app's signing keys could not be fetched.", cause: error });
    }
  };
  return { getKey, reload: () => keys.reload() };
}
