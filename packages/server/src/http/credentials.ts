import type { FastifyRequest } from 'fastify';
import { TesseraError } from '../errors.js';
import type { MaybePromise } from '../lib/maybe-promise.js';
import type { Caller } from '../auth/limits/abuse-limiter.js';
import type { AuthContext } from '../auth/sessions/session-service.js';
import type { AdminTokenRecord, ApiKeyRecord, AppRecord } from '../store/repositories/index.js';
import type { Services } from '../services.js';

export const KEY_HEADER = 'x-tessera-key';

const BEARER = 'bearer ';
const MAX_BEARER_TOKEN = 8192;

/**
 * Credentials travel as `Authorization: Bearer <credential>` or, for API keys, also as
 * `X-Tessera-Key`. The credential's prefix says what it is: `pk_`/`sk_` API keys, `adm_` admin
 * tokens; anything else is taken for an access token.
 */
export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  // Checked without a regular expression: this runs on every authenticated request. A token
  // with anything else in it (a space, a second token) is refused by whatever checks it next.
  const token = header.slice(BEARER.length);
  if (
    header.slice(0, BEARER.length).toLowerCase() !== BEARER ||
    token.length === 0 ||
    token.length > MAX_BEARER_TOKEN
  ) {
    throw new TesseraError('invalid_token', { message: 'The Authorization header must be "Bearer <token>".' });
  }
  return token;
}

/** The app key the request presents (X-Tessera-Key, or a pk_/sk_ bearer), unchecked. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers[KEY_HEADER];
  if (typeof header === 'string') return header;
  const token = bearer(request);
  return token !== undefined && /^(pk|sk)_/.test(token) ? token : undefined;
}

/** The app's API key the request presents. `secret` demands a secret key. */
export async function requireKey(
  services: Pick<Services, 'apps' | 'limits'>,
  request: FastifyRequest,
  app: AppRecord,
  kind: 'any' | 'secret',
): Promise<ApiKeyRecord> {
  const token = presentedKey(request);
  if (token === undefined) {
    throw new TesseraError('missing_credentials', {
      message: `Send the app's ${kind === 'secret' ? 'secret' : 'publishable'} key in the X-Tessera-Key header.`,
    });
  }
  const key = await services.limits.checked(callerOf(request, app), 'address', () =>
    services.apps.authenticateKey(app, token),
  );
  if (kind === 'secret' && key.kind !== 'secret')
    throw new TesseraError('forbidden', { message: 'This call needs the secret key.' });
  return key;
}

/** The signed-in user behind the request's access token; synchronously when this node's caches answer. */
export function requireUser(
  services: Pick<Services, 'limits' | 'sessions'>,
  request: FastifyRequest,
  app: AppRecord,
): MaybePromise<AuthContext> {
  const token = bearer(request);
  if (token === undefined || /^(pk|sk|adm|at|rt)_/.test(token))
    throw new TesseraError('missing_credentials', {
      message: 'Send an access token: Authorization: Bearer <accessToken>.',
    });
  // A forged token counts as a guess by the caller's address; a valid one costs no round trip.
  return services.limits.checked(callerOf(request, app), 'address', () => services.sessions.authenticate(app, token));
}

/** The admin token of a call to the operator's API. */
export async function requireAdmin(
  services: Pick<Services, 'apps' | 'limits'>,
  request: FastifyRequest,
): Promise<AdminTokenRecord> {
  const token = bearer(request);
  if (token === undefined)
    throw new TesseraError('missing_credentials', { message: 'Send an admin token: Authorization: Bearer adm_….' });
  return services.limits.checked(callerOf(request, null), 'address', () => services.apps.authenticateAdmin(token));
}

/** Whose failed credential checks count together: the request's client address, within the app (or the admin API). */
export function callerOf(request: FastifyRequest, app: AppRecord | null): Caller {
  return { app, ip: request.ip };
}

export function clientInfo(request: FastifyRequest): { userAgent: string | null; ip: string | null } {
  const agent = request.headers['user-agent'];
  return { userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null, ip: request.ip };
}
