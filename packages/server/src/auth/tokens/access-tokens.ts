import { errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose';
import type { AccessTokenClaims, UserKind } from '@tessera/protocol';
import type { Logger } from 'pino';
import { TesseraError } from '../../errors.js';
import { BoundedCache } from '../../lib/bounded-cache.js';
import type { Clock } from '../../lib/clock.js';
import { uuidv7 } from '../../lib/ids.js';
import type { MaybePromise } from '../../lib/maybe-promise.js';
import type { AppRecord } from '../../store/repositories/index.js';
import type { SigningKeyService } from '../keys/signing-keys.js';
import { signCompactJws } from './compact-jws.js';
import { UserClaims, type ClaimedUserFields } from './token-claims.js';

const TOKEN_TYPE = 'at+jwt'; // RFC 9068
const ALGORITHMS = ['EdDSA', 'ES256'];
const MAX_TOKEN_LENGTH = 8192;

export interface IssuedAccessToken {
  token: string;
  expiresAt: number;
}

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  notAfter: number;
  /** The user's kind, which every token carries (`kind`), whatever the app's `accessTokenClaims`. */
  kind: UserKind;
  /** The user, whose roles, tags and customData the app's `accessTokenClaims` copy; without it the token has none. */
  user?: ClaimedUserFields;
}

interface VerifiedToken {
  appId: string;
  claims: AccessTokenClaims;
}

/**
 * Issues and verifies the apps' access tokens. A verified token is remembered until it
 * expires (the `cacheSize` most recently used ones), so a client that sends the same token on
 * every request pays for the signature check once; the session behind it is still checked on
 * every request. Only tokens whose signature verified are kept: made-up ones are not.
 */
export class AccessTokenService {
  private readonly verified: BoundedCache<string, VerifiedToken>;
  private readonly userClaims: UserClaims;

  /** `logger` hears of users whose claims did not fit in a token. */
  constructor(
    private readonly keys: SigningKeyService,
    private readonly clock: Clock,
    private readonly issuerBase: () => string,
    cacheSize = 10_000,
    logger?: Logger,
  ) {
    this.verified = new BoundedCache({ clock, maxEntries: cacheSize, ttlMs: 0 });
    this.userClaims = new UserClaims(clock, logger);
  }

  issuer(app: AppRecord): string {
    return `${this.issuerBase()}/v1/apps/${app.namespace}/${app.name}`;
  }

  /**
   * `notAfter` is the session's absolute end: a token never outlives its session, so a server
   * that verifies tokens offline stops accepting them when the session can no longer be live.
   * Every token, at login and at each refresh, says what the user's record says now.
   */
  async issue(app: AppRecord, subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    const signer = await this.keys.signer(app);
    const issuedAt = Math.floor(this.clock.now() / 1000);
    const expiresAt = Math.min(issuedAt + app.settings.accessTokenTtl, Math.floor(subject.notAfter / 1000));
    const claims: AccessTokenClaims = {
      iss: this.issuer(app),
      aud: app.path,
      sub: subject.userId,
      sid: subject.sessionId,
      iat: issuedAt,
      exp: expiresAt,
      jti: uuidv7(this.clock.now()),
      kind: subject.kind,
      ...(subject.user === undefined ? {} : this.userClaims.of(app, subject.user)),
    };
    return { token: signCompactJws(signer, TOKEN_TYPE, claims), expiresAt: expiresAt * 1000 };
  }

  /**
   * The claims of a valid token of this app; throws `token_expired` or `invalid_token`. A token
   * verified before answers synchronously.
   */
  verify(app: AppRecord, token: string): MaybePromise<AccessTokenClaims> {
    // An entry lives until its token's `exp`; then the signature check below answers token_expired.
    const cached = this.verified.get(token);
    if (cached?.appId === app.id) return cached.claims;
    return this.verifySignature(app, token).then((claims) => {
      this.verified.set(token, { appId: app.id, claims }, { ttlMs: claims.exp * 1000 - this.clock.now() });
      return claims;
    });
  }

  private async verifySignature(app: AppRecord, token: string): Promise<AccessTokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH)
      throw new TesseraError('invalid_token', { message: 'The access token is too long.' });
    try {
      const { payload } = await jwtVerify(token, (header: JWTHeaderParameters) => this.keyFor(app, header), {
        issuer: this.issuer(app),
        audience: app.path,
        algorithms: ALGORITHMS,
        typ: TOKEN_TYPE,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['sub', 'sid', 'iat', 'exp', 'jti'],
      });
      if (typeof payload.sid !== 'string') throw new TesseraError('invalid_token');
      return payload as unknown as AccessTokenClaims;
    } catch (error) {
      if (error instanceof TesseraError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new TesseraError('token_expired');
      throw new TesseraError('invalid_token', { cause: error });
    }
  }

  private async keyFor(app: AppRecord, header: JWTHeaderParameters) {
    const key = header.kid === undefined ? undefined : await this.keys.verificationKey(app, header.kid);
    if (key === undefined || key.alg !== header.alg)
      throw new TesseraError('invalid_token', { message: 'The access token was not signed by a key of this app.' });
    return key.publicKey;
  }
}
