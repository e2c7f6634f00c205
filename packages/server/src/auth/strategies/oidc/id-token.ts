import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyOptions,
  type ProtectedHeaderParameters,
} from 'jose';
import { TesseraError } from '../../../errors.js';
import type { Clock } from '../../../lib/clock.js';
import { isBareJsonObject } from '../../external-tokens/json-segment.js';
import { ExternalTokenRefused } from '../../external-tokens/refusal.js';
import { ASYMMETRIC_ALGORITHMS } from '../../external-tokens/signature-algorithms.js';
import { assertTimeClaims } from '../../external-tokens/time-claims.js';
import { invalidIdToken, type IdTokenCheck } from './errors.js';
import type { ProviderCache, ProviderState } from './provider-cache.js';
import type { OidcProviderSettings } from './settings.js';

/**
 * The algorithms an ID token may be signed with. Asymmetric only: an HS* ID token is signed with
 * the client secret, which Tessera does not hold. `Ed25519` is the fully-specified name some
 * providers advertise for EdDSA over Ed25519.
 */
const ID_TOKEN_ALGORITHMS: string[] = [...ASYMMETRIC_ALGORITHMS, 'Ed25519'];

/** Clock difference tolerated between Tessera and the provider, for `exp`, `nbf` and `iat`. */
const CLOCK_SKEW_SECONDS = 60;

/** `typ` values of an ID token; `at+jwt`, `logout+jwt` and the like are other tokens of the same issuer. */
const ID_TOKEN_TYPES = new Set(['jwt', 'application/jwt']);

/** The claims of a verified ID token that Tessera reads. */
export interface IdTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
}

export interface VerifiedIdToken {
  provider: OidcProviderSettings;
  claims: IdTokenClaims;
}

/** Verifies ID tokens against the app's configured providers (OpenID Connect Core 1.0, §3.1.3.7). */
export class IdTokenVerifier {
  constructor(
    private readonly cache: ProviderCache,
    private readonly clock: Clock,
  ) {}

  async verify(
    appId: string,
    providers: readonly OidcProviderSettings[],
    idToken: string,
    nonce: string | undefined,
  ): Promise<VerifiedIdToken> {
    const { provider, header, payload } = chooseProvider(providers, idToken);
    try {
      // Before jose, which takes an exp of 1e400 (Infinity) for a token that never expires.
      assertTimeClaims(payload, { maxTokenLifetime: provider.maxTokenLifetime });
      const kid = typeof header.kid === 'string' ? header.kid : undefined;
      const state = await this.cache.get(appId, provider, kid);
      const claims = await this.verifySignedClaims(provider, state, idToken);
      checkClaims(claims, provider, nonce, this.clock.now());
      return { provider, claims };
    } catch (error) {
      throw error instanceof ExternalTokenRefused
        ? error.withFacts({
            issuer: provider.issuer,
            kid: typeof header.kid === 'string' ? header.kid.slice(0, 256) : undefined,
          })
        : error;
    }
  }

  /** Signature, `iss`, `aud`, `exp` and `nbf`, with the keys the cache gave for the token's `kid`. */
  private async verifySignedClaims(
    provider: OidcProviderSettings,
    state: ProviderState,
    idToken: string,
  ): Promise<IdTokenClaims> {
    try {
      return await verifyWithKeys(idToken, state, this.verifyOptions(provider, state));
    } catch (error) {
      throw toTesseraError(error);
    }
  }

  private verifyOptions(provider: OidcProviderSettings, state: ProviderState): JWTVerifyOptions {
    const advertised = state.metadata.idTokenAlgorithms;
    return {
      issuer: provider.issuer,
      audience: provider.clientId,
      algorithms:
        advertised === undefined ? ID_TOKEN_ALGORITHMS : ID_TOKEN_ALGORITHMS.filter((alg) => advertised.includes(alg)),
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(this.clock.now()),
    };
  }
}

/**
 * Reads `iss` without verifying anything, only to know whose keys to verify with; the token is
 * then verified in full against that provider. When several entries share the issuer, the one
 * whose client id the token names is tried (the audience check still applies).
 */
function chooseProvider(
  providers: readonly OidcProviderSettings[],
  idToken: string,
): { provider: OidcProviderSettings; header: ProtectedHeaderParameters; payload: JWTPayload } {
  const { header, payload } = peek(idToken);
  // Header values are untrusted JSON here: `typ` may be any type.
  const typ: unknown = header.typ;
  if (typ !== undefined && (typeof typ !== 'string' || !ID_TOKEN_TYPES.has(typ.toLowerCase())))
    throw invalidIdToken('typ');
  const candidates = providers.filter((provider) => provider.issuer === payload.iss);
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const provider = candidates.find((candidate) => audiences.includes(candidate.clientId)) ?? candidates[0];
  if (provider === undefined) throw invalidIdToken('issuer');
  return { provider, header, payload };
}

function peek(idToken: string): { header: ProtectedHeaderParameters; payload: JWTPayload } {
  // Header and claims must be bare JSON objects: no byte-order mark or whitespace that decoders forgive.
  const [header = '', payload = ''] = idToken.split('.');
  if (!isBareJsonObject(Buffer.from(header, 'base64url')) || !isBareJsonObject(Buffer.from(payload, 'base64url')))
    throw invalidIdToken('format');
  try {
    return { header: decodeProtectedHeader(idToken), payload: decodeJwt(idToken) };
  } catch {
    throw invalidIdToken('format');
  }
}

async function verifyWithKeys(
  idToken: string,
  state: ProviderState,
  options: JWTVerifyOptions,
): Promise<IdTokenClaims> {
  try {
    const { payload } = await jwtVerify(idToken, state.getKey, options);
    return payload as IdTokenClaims;
  } catch (error) {
    // Several keys fit the header (no `kid`, or a reused one): jose leaves trying each to the caller.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    return verifyWithEachKey(idToken, error, options);
  }
}

async function verifyWithEachKey(
  idToken: string,
  keys: AsyncIterable<CryptoKey>,
  options: JWTVerifyOptions,
): Promise<IdTokenClaims> {
  for await (const key of keys) {
    try {
      const { payload } = await jwtVerify(idToken, key, options);
      return payload as IdTokenClaims;
    } catch (error) {
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw error;
    }
  }
  throw new errors.JWSSignatureVerificationFailed();
}

/** The checks jose does not make: `sub`, `azp` with several audiences, `iat` not in the future, the nonce. */
function checkClaims(
  claims: IdTokenClaims,
  provider: OidcProviderSettings,
  nonce: string | undefined,
  now: number,
): void {
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) throw invalidIdToken('sub');
  if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== provider.clientId)
    throw invalidIdToken('azp');
  if (typeof claims.iat === 'number' && claims.iat > now / 1000 + CLOCK_SKEW_SECONDS) throw invalidIdToken('iat');
  if (nonce !== undefined && claims.nonce !== nonce) throw invalidIdToken('nonce');
}

/** Maps jose's errors to the check that failed; anything else (a TesseraError from the cache) passes through. */
function toTesseraError(error: unknown): unknown {
  if (error instanceof TesseraError) return error;
  const check = joseCheck(error);
  return check === undefined ? error : invalidIdToken(check);
}

function joseCheck(error: unknown): IdTokenCheck | undefined {
  if (error instanceof errors.JWTExpired) return 'exp';
  if (error instanceof errors.JWTClaimValidationFailed) return claimCheck(error.claim, error.reason);
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm';
  // A key of the provider's set that cannot be used (a private key, a malformed one) verifies nothing.
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSInvalid ||
    error instanceof errors.JWKInvalid
  )
    return 'key';
  if (error instanceof errors.JOSEError) return 'format';
  return undefined;
}

function claimCheck(claim: string, reason: string): IdTokenCheck {
  // A claim that is absent or of the wrong type (`iat: "soon"`) is a malformed token, whichever claim it is.
  if (reason === 'missing' || reason === 'invalid') return 'claims';
  switch (claim) {
    case 'iss':
      return 'issuer';
    case 'aud':
      return 'audience';
    case 'nbf':
      return 'nbf';
    case 'iat':
      return 'iat';
    default:
      return 'claims';
  }
}
