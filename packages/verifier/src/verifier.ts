import type { AccessTokenClaims } from '@tessera/protocol';
import { decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { VerifierError } from './errors.js';
import { remoteKeySet, type KeySetOptions } from './key-set.js';
import { principalOf, type Principal } from './principal.js';
import type { FeedStatus } from './event-stream.js';
import { RevocationFeed, type FeedContext, type FeedOptions } from './feed.js';
import type { RevocationListener, RevocationSource } from './revocation.js';
import { VerifiedTokenCache } from './token-cache.js';

/** What Tessera signs access tokens with (`signingAlgorithm` of the app's settings). */
const ALGORITHMS = ['EdDSA', 'ES256'];
const TOKEN_TYPE = 'at+jwt'; // RFC 9068
/** Tessera's own bound: a longer token is refused before it is parsed. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * What `createVerifier` needs: where Tessera is and which app's tokens to accept; the rest has defaults.
 *
 * @example
 * ```ts
 * const options: VerifierOptions = {
 *   url: 'http://tessera:3000', // reached inside the private network
 *   publicUrl: 'https://auth.example.com', // Tessera's publicUrl, the tokens' issuer
 *   app: 'acme/chat',
 *   clockToleranceSeconds: 2,
 * };
 * ```
 */
export interface VerifierOptions {
  /** Tessera's base URL, where the verifier fetches the app's keys (`https://auth.example.com`). */
  url: string;
  /** The app whose tokens are accepted: `namespace/app`. */
  app: string;
  /**
   * Tessera's `publicUrl`, which its tokens name as their issuer, when the verifier reaches
   * Tessera at another address (`http://tessera:3000` inside a private network); default `url`.
   */
  publicUrl?: string;
  /** Seconds of clock difference allowed on `exp`; default 5. */
  clockToleranceSeconds?: number;
  /** How many verified tokens are remembered until they expire; default 10 000, 0 for none. */
  cacheSize?: number;
  /** Fetching and keeping the app's public keys. */
  keys?: KeySetOptions;
  /**
   * The app's secret key (`sk_…`, scope `sessions:read`): with it the verifier subscribes to
   * Tessera's revocation feed (`GET …/events`) and may ask Tessera about a token
   * (`POST …/introspect`). Without it, tokens are checked offline only.
   */
  secretKey?: string;
  /** The revocation feed's settings (see {@link FeedOptions}); `false` turns the feed off even with a secret key. */
  feed?: FeedOptions | false;
  /** Sessions ended before their tokens expire, from a source of the app's own; checked on every `verify`. */
  revocations?: RevocationSource;
  /** The current time in milliseconds since the epoch; default `Date.now` (tests move a clock instead). */
  now?: () => number;
}

/**
 * Checks Tessera access tokens of one app, offline, from the app's published keys; with a
 * secret key, also against Tessera's revocation feed.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ url: 'https://auth.example.com', app: 'acme/chat' });
 * const principal = await verifier.verify(token);
 * ```
 */
export interface Verifier {
  /**
   * The principal of a valid token of the app. Rejects with a {@link VerifierError}:
   * `token_expired` (the client refreshes its token), `invalid_token`, `session_revoked` or
   * `user_disabled` (from the revocation feed or source, or an online check), `missing_credentials`
   * for an empty token, `unavailable` when the app's keys cannot be fetched, an online check
   * cannot be made, or the feed is down past its grace with `onOutage: 'fail-closed'`. A token
   * verified before answers from the cache, without a signature check, until it expires; the
   * revocations are checked every time.
   *
   * @example
   * ```ts
   * const token = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
   * const { userId, roles } = await verifier.verify(token);
   * ```
   */
  verify(token: string): Promise<Principal>;
  /**
   * Calls `listener` for each session that ends from now on (a logout, a revocation, the user
   * disabled or deleted), as the revocation source hears it; returns the call that stops
   * listening. The integrations close the connections of ended sessions with it.
   *
   * @example
   * ```ts
   * verifier.onRevoked(({ sessionId, userId, code }) => closeConnections({ sessionId, userId }, code));
   * ```
   */
  onRevoked(listener: RevocationListener): () => void;
  /**
   * Resolves once Tessera's revocation feed is live (its stream said `ready`), at once without
   * a feed. Rejects when Tessera refuses the secret key or its scope (a configuration error,
   * also told to `feed.onError`), or when the verifier is closed first. An app may wait for it
   * before accepting connections; before it, each token is checked online.
   *
   * @example
   * ```ts
   * await verifier.ready();
   * httpServer.listen(8080);
   * ```
   */
  ready(): Promise<void>;
  /**
   * Where the revocation feed stands: `connecting`, `live`, `down` (reconnecting), `refused`
   * (the key was refused; retried slowly), `closed`, or `off` without a secret key.
   *
   * @example
   * ```ts
   * health.check('tessera-feed', () => verifier.status === 'live');
   * ```
   */
  readonly status: FeedStatus;
  /** Revoked sessions and refused users held in memory now (each until its tokens expire); 0 without a feed. */
  readonly revokedCount: number;
  /**
   * Forgets the verified tokens, closes the revocation feed and its timers; `verify` then
   * rejects with `unavailable`. Call it when the server shuts down.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => verifier.close());
   * ```
   */
  close(): void;
}

/**
 * A verifier of the access tokens of `app` on the Tessera at `url`. It checks each token's
 * signature against the app's keys (`…/.well-known/jwks.json`, fetched on first use and cached),
 * its type (`at+jwt`), issuer, audience (the app), algorithm and `exp` (with a small tolerance),
 * and that it names a user, a session and when it was issued.
 *
 * @example
 * ```ts
 * import { createVerifier, VerifierError } from '@tessera/verifier';
 *
 * const verifier = createVerifier({ url: 'http://127.0.0.1:3000', app: 'demo/chat' });
 * try {
 *   const principal = await verifier.verify(accessToken);
 *   console.log(principal.userId, principal.sessionId, principal.roles);
 * } catch (error) {
 *   // Refused: error.code is e.g. 'token_expired' (the client refreshes) or 'invalid_token'; error.status 401.
 *   if (error instanceof VerifierError) console.log(error.code, error.status);
 * }
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (!/^[^/\s]+\/[^/\s]+$/.test(options.app)) throw new TypeError('app must be "namespace/app"');
  const appBase = (base: string) => `${base.replace(/\/+$/, '')}/v1/apps/${options.app}`;
  const issuer = appBase(options.publicUrl ?? options.url);
  const keys = remoteKeySet(new URL(`${appBase(options.url)}/.well-known/jwks.json`), options.keys);
  const now = options.now ?? Date.now;
  const cache = new VerifiedTokenCache(options.cacheSize ?? 10_000, now);
  const tolerance = options.clockToleranceSeconds ?? 5;
  const check: SignatureCheck = { keys: keys.getKey, issuer, audience: options.app, now, tolerance };
  const feed = feedOf(options, {
    appUrl: appBase(options.url),
    now,
    toleranceMs: tolerance * 1000,
    forgetUser: (userId) => cache.forgetUser(userId),
    reloadKeys: () => keys.reload(),
  });
  let closed = false;

  return {
    async verify(token) {
      if (closed) throw new VerifierError('unavailable', { message: 'The verifier is closed.' });
      if (token === '') throw new VerifierError('missing_credentials');
      let principal = cache.get(token);
      if (principal === undefined) {
        principal = principalOf(await verifySignature(token, check));
        cache.set(token, principal);
      }
      const revoked = options.revocations?.revoked(principal.sessionId);
      if (revoked !== undefined) throw new VerifierError(revoked);
      const online = feed?.check(principal, token);
      if (online !== undefined) await online;
      return principal;
    },
    onRevoked(listener) {
      const stops = [options.revocations?.onRevoked?.(listener), feed?.onRevoked(listener)];
      return () => stops.forEach((stop) => stop?.());
    },
    ready() {
      return feed?.whenReady() ?? Promise.resolve();
    },
    get status() {
      if (feed === undefined) return closed ? 'closed' : 'off';
      return feed.status;
    },
    get revokedCount() {
      return feed?.revokedCount ?? 0;
    },
    close() {
      closed = true;
      cache.clear();
      feed?.close();
    },
  };
}

/** The revocation feed, when the verifier has a secret key and the feed is not turned off. */
function feedOf(options: VerifierOptions, context: Omit<FeedContext, 'secretKey'>): RevocationFeed | undefined {
  if (options.secretKey === undefined || options.feed === false) return undefined;
  if (!options.secretKey.startsWith('sk_')) throw new TypeError("secretKey must be the app's secret key (sk_…)");
  return new RevocationFeed({ ...context, secretKey: options.secretKey }, options.feed);
}

interface SignatureCheck {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  now: () => number;
  tolerance: number;
}

/** The claims of a token whose signature and registered claims hold; throws a {@link VerifierError}. */
async function verifySignature(token: string, check: SignatureCheck): Promise<AccessTokenClaims> {
  if (token.length > MAX_TOKEN_LENGTH) throw new VerifierError('invalid_token', { message: 'The token is too long.' });
  refuseOtherApps(token, check);
  try {
    const { payload } = await jwtVerify(token, check.keys, {
      typ: TOKEN_TYPE,
      issuer: check.issuer,
      audience: check.audience,
      algorithms: ALGORITHMS,
      clockTolerance: check.tolerance,
      currentDate: new Date(check.now()),
      requiredClaims: ['sub', 'sid', 'iat', 'exp'],
    });
    if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string') throw new VerifierError('invalid_token');
    return payload as unknown as AccessTokenClaims;
  } catch (error) {
    if (error instanceof VerifierError) throw error;
    if (error instanceof joseErrors.JWTExpired) throw new VerifierError('token_expired');
    // jose's messages name the failed check, never the token.
    const message = error instanceof joseErrors.JOSEError ? `The token is not valid: ${error.message}` : undefined;
    throw new VerifierError('invalid_token', message === undefined ? {} : { message });
  }
}

/**
 * Refuses a token whose (still unverified) issuer or audience is not this app's before any key
 * is fetched: another app's tokens never cause a fetch, and are `invalid_token` at once.
 */
function refuseOtherApps(token: string, check: SignatureCheck): void {
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new VerifierError('invalid_token', { message: 'The token is not a JWT.' });
  }
  if (claims.iss !== check.issuer || claims.aud !== check.audience)
    throw new VerifierError('invalid_token', { message: 'The token was not issued for this app.' });
}
