import { AUTH_TOKEN_LIFETIME_SECONDS, type AuthToken, type CreateAuthTokenBody } from '@tessera/protocol';
import { TesseraError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { toIso, toIsoOrNull } from '../../lib/clock.js';
import { createOpaqueToken, parseOpaqueToken, secretMatches } from '../../lib/opaque-token.js';
import type { AppRecord, AuthTokenRecord, Repositories, UserRecord } from '../../store/repositories/index.js';
import type { SessionService } from '../sessions/session-service.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Use is written back at most this often, so a busy token does not write on every login. */
export const AUTH_TOKEN_TOUCH_INTERVAL_MS = MINUTE_MS;
/** Active (unrevoked, unexpired) tokens one user may hold: bounds the list and a runaway backend. */
export const MAX_ACTIVE_AUTH_TOKENS = 100;
/** Revoked and expired tokens are deleted this long after they ended, when the user gets a new one. */
const KEEP_ENDED_MS = 30 * DAY_MS;

export interface CreatedAuthToken {
  /** The whole token. Only its hash is stored: it cannot be shown again. */
  token: string;
  metadata: AuthToken;
}

/**
 * Long-lived per-user login tokens (CometChat's auth tokens): the app's backend makes them with
 * the secret key and hands them to its client, which logs in with the `auth-token` strategy.
 * Revoking one stops new logins with it; sessions already made with it go on until they end.
 */
export class AuthTokenService {
  constructor(
    private readonly repositories: Repositories,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
  ) {}

  async create(app: AppRecord, userId: string, body: CreateAuthTokenBody): Promise<CreatedAuthToken> {
    const now = this.clock.now();
    const expiresAt = this.expiryOf(body, now);
    const user = await this.userOf(app, userId);
    await this.repositories.authTokens.pruneEnded(app.id, user.id, now - KEEP_ENDED_MS);
    if ((await this.repositories.authTokens.countActive(app.id, user.id, now)) >= MAX_ACTIVE_AUTH_TOKENS) {
      throw new TesseraError('auth_token_limit', { details: { limit: MAX_ACTIVE_AUTH_TOKENS } });
    }
    const credential = createOpaqueToken('at');
    const record = await this.repositories.authTokens.insert({
      id: credential.id,
      app_id: app.id,
      user_id: user.id,
      label: body.label ?? null,
      secret_hash: credential.secretHash,
      created_at: now,
      expires_at: expiresAt,
    });
    return { token: credential.token, metadata: presentAuthToken(record) };
  }

  /** The user's tokens that can still log in, newest first. Never the tokens themselves. */
  async list(app: AppRecord, userId: string): Promise<AuthToken[]> {
    const user = await this.userOf(app, userId);
    return (await this.repositories.authTokens.listActive(app.id, user.id, this.clock.now())).map(presentAuthToken);
  }

  /** Stops the token from logging in again. Sessions it already made are left alone. */
  async revoke(app: AppRecord, userId: string, tokenId: string): Promise<void> {
    if (!(await this.repositories.authTokens.revoke(app.id, userId, tokenId, this.clock.now())))
      throw new TesseraError('token_not_found');
  }

  /** The user a presented token belongs to, or the error that says why it may not log in. */
  async authenticate(app: AppRecord, token: string): Promise<UserRecord> {
    const now = this.clock.now();
    const parsed = parseOpaqueToken(token);
    const record = parsed?.prefix === 'at' ? await this.repositories.authTokens.findById(parsed.id) : undefined;
    if (
      parsed === null ||
      record === undefined ||
      record.appId !== app.id ||
      !secretMatches(parsed.secret, record.secretHash)
    ) {
      throw new TesseraError('invalid_token', { message: 'The auth token is not valid.' });
    }
    // Past the secret check the caller holds the real token, so saying why it stopped working is safe.
    if (record.revokedAt !== null)
      throw new TesseraError('invalid_token', { message: 'The auth token has been revoked.' });
    if (record.expiresAt !== null && record.expiresAt <= now)
      throw new TesseraError('invalid_token', { message: 'The auth token has expired.' });
    const user = await this.repositories.users.findById(app.id, record.userId);
    if (user === undefined) throw new TesseraError('invalid_token', { message: 'The auth token is not valid.' });
    // Checked here too (the authenticator checks again) so that a refused login is not recorded as a use.
    this.sessions.assertUserActive(user, now);
    if (record.lastUsedAt === null || now - record.lastUsedAt >= AUTH_TOKEN_TOUCH_INTERVAL_MS)
      await this.repositories.authTokens.touch(record.id, now);
    return user;
  }

  private async userOf(app: AppRecord, userId: string): Promise<UserRecord> {
    const user = await this.repositories.users.findById(app.id, userId);
    if (user === undefined) throw new TesseraError('user_not_found');
    return user;
  }

  private expiryOf(body: CreateAuthTokenBody, now: number): number | null {
    if (body.expiresIn !== undefined && body.expiresAt !== undefined) {
      throw new TesseraError('invalid_request', {
        message: 'Give expiresIn or expiresAt, not both.',
        details: [{ path: '/expiresAt', message: 'not with expiresIn' }],
      });
    }
    if (body.expiresIn !== undefined) return now + body.expiresIn * 1000;
    if (body.expiresAt === undefined) return null;
    const expiresAt = Date.parse(body.expiresAt);
    if (
      Number.isNaN(expiresAt) ||
      expiresAt < now + AUTH_TOKEN_LIFETIME_SECONDS.min * 1000 ||
      expiresAt > now + AUTH_TOKEN_LIFETIME_SECONDS.max * 1000
    ) {
      throw new TesseraError('invalid_request', {
        message: 'expiresAt must be at least a minute and at most ten years ahead.',
        details: [{ path: '/expiresAt', message: 'must be between one minute and ten years from now' }],
      });
    }
    return expiresAt;
  }
}

export function presentAuthToken(record: AuthTokenRecord): AuthToken {
  return {
    id: record.id,
    userId: record.userId,
    label: record.label,
    createdAt: toIso(record.createdAt),
    expiresAt: toIsoOrNull(record.expiresAt),
    lastUsedAt: toIsoOrNull(record.lastUsedAt),
  };
}
