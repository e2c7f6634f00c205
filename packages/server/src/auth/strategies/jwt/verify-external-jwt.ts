import { errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { TesseraError } from '../../../errors.js';
import type { Clock } from '../../../lib/clock.js';
import { ExternalTokenRefused } from '../../external-tokens/refusal.js';
import { assertTimeClaims } from '../../external-tokens/time-claims.js';
import type { Claims } from './claims.js';
import type { AppScope, IssuerKeys, VerificationKey } from './issuer-keys.js';
import type { TrustedIssuerSettings } from './settings.js';
import { inspectToken, type TokenHeader } from './token-structure.js';
import { TokenRejected } from './token-rejected.js';

export interface ExternalJwtRequest {
  /** Scopes cached key sets to the app, and names it in the log. */
  app: AppScope;
  issuers: readonly TrustedIssuerSettings[];
  token: string;
  /** The issuer the client names; needed only when the token's `iss` does not tell. */
  issuerId?: string | undefined;
}

export interface VerifiedExternalJwt {
  issuer: TrustedIssuerSettings;
  header: TokenHeader;
  claims: Claims;
}

const MAX_JTI_LENGTH = 256;

/**
 * Verifies a trusted issuer's JWT, independent of any transport: structure first (our own
 * strict checks), then the issuer and its key, then signature and claims with jose, pinned to
 * the one algorithm the chosen key allows. Every refusal is `invalid_token`, the same for all,
 * its reason (with the issuer and kid) kept for the log; a JWKS that cannot be fetched is
 * `idp_unreachable`.
 */
export class ExternalJwtVerifier {
  constructor(
    private readonly keys: IssuerKeys,
    private readonly clock: Clock,
  ) {}

  async verify({ app, issuers, token, issuerId }: ExternalJwtRequest): Promise<VerifiedExternalJwt> {
    const { header, unverifiedClaims } = inspectToken(token);
    const issuer = chooseIssuer(issuers, issuerId, unverifiedClaims.iss);
    try {
      return await this.verifyForIssuer(app, issuer, token, header, unverifiedClaims);
    } catch (error) {
      throw error instanceof ExternalTokenRefused ? error.withFacts({ issuer: issuer.id, kid: header.kid }) : error;
    }
  }

  private async verifyForIssuer(
    app: AppScope,
    issuer: TrustedIssuerSettings,
    token: string,
    header: TokenHeader,
    unverifiedClaims: Claims,
  ): Promise<VerifiedExternalJwt> {
    // Before jose, which takes an exp of 1e400 (Infinity) for a token that never expires.
    assertTimeClaims(unverifiedClaims, { maxTokenLifetime: issuer.maxTokenLifetime });
    const candidates = await this.keys.candidates(app, issuer, header);
    const claims = await this.verifyWithAny(token, candidates, this.options(issuer, header));
    this.checkIssuedAt(claims, issuer);
    if (
      issuer.singleUse &&
      !(typeof claims.jti === 'string' && claims.jti.length > 0 && claims.jti.length <= MAX_JTI_LENGTH)
    ) {
      throw new TokenRejected(
        'missing_claim',
        `Tokens of this issuer are single use and need a jti of 1 to ${MAX_JTI_LENGTH} characters.`,
        { claim: 'jti' },
      );
    }
    return { issuer, header, claims };
  }

  private options(issuer: TrustedIssuerSettings, header: TokenHeader): JWTVerifyOptions {
    const requiredClaims = issuer.requireExpiry || issuer.singleUse ? ['exp'] : [];
    return {
      algorithms: [header.alg],
      audience: issuer.audience,
      ...(issuer.issuer === undefined ? {} : { issuer: issuer.issuer }),
      clockTolerance: issuer.clockSkew,
      currentDate: new Date(this.clock.now()),
      requiredClaims,
    };
  }

  /** Tries each candidate key (several only for shared secrets being rotated). */
  private async verifyWithAny(
    token: string,
    candidates: VerificationKey[],
    options: JWTVerifyOptions,
  ): Promise<Claims> {
    for (const key of candidates) {
      try {
        const { payload } = await jwtVerify(token, key, options);
        return payload;
      } catch (error) {
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        throw rejection(error);
      }
    }
    throw new TokenRejected('bad_signature', "The token's signature does not verify with the issuer's key.");
  }

  /** jose checks `iat` only with maxTokenAge; a token issued in the future is refused here. */
  private checkIssuedAt(claims: Claims, issuer: TrustedIssuerSettings): void {
    if (typeof claims.iat === 'number' && claims.iat * 1000 > this.clock.now() + issuer.clockSkew * 1000) {
      throw new TokenRejected('not_yet_valid', 'The token was issued in the future.', { claim: 'iat' });
    }
  }
}

function chooseIssuer(
  issuers: readonly TrustedIssuerSettings[],
  issuerId: string | undefined,
  iss: unknown,
): TrustedIssuerSettings {
  if (issuerId !== undefined) {
    const named = issuers.find((issuer) => issuer.id === issuerId);
    if (named === undefined)
      throw new TesseraError('invalid_request', {
        message: 'This app has no trusted issuer of that id.',
        details: [{ path: '/issuer', message: 'unknown issuer' }],
      });
    return named;
  }
  const [only] = issuers;
  if (issuers.length === 1 && only !== undefined) return only;
  const matching = issuers.filter((issuer) => issuer.issuer !== undefined && issuer.issuer === iss);
  const [match] = matching;
  if (matching.length === 1 && match !== undefined) return match;
  throw new TokenRejected(
    'unknown_issuer',
    issuers.length === 0
      ? 'This app trusts no issuer yet.'
      : "The token's iss names no single trusted issuer of this app; name it in the login body (issuer).",
  );
}

/** jose's verdicts, as reasons an integrator can act on. Anything unexpected is a malformed token, never a crash. */
function rejection(error: unknown): TokenRejected {
  if (error instanceof errors.JWTExpired)
    return new TokenRejected('expired', 'The token has expired.', { claim: 'exp' });
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing')
      return new TokenRejected('missing_claim', `The token has no ${error.claim} claim.`, { claim: error.claim });
    if (error.claim === 'nbf')
      return new TokenRejected('not_yet_valid', 'The token is not valid yet.', { claim: 'nbf' });
    return new TokenRejected('claim_mismatch', `The token's ${error.claim} claim is not the expected one.`, {
      claim: error.claim,
    });
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new TokenRejected('unsupported_alg', "The token's alg does not fit the issuer's key.");
  return new TokenRejected('malformed', 'The token could not be verified.');
}
