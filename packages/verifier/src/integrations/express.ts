/**
 * `@tessera/verifier/express`: Express 5 routes that accept Tessera's users only.
 */
import type { NextFunction, Request, Response } from 'express';
import { VerifierError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { Verifier } from '../verifier.js';
import { asVerifierError, bearerToken, envelopeOf, refusalHeaders } from './common.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types its request through this namespace.
  namespace Express {
    interface Request {
      /** The verified Tessera principal, set by the `tesseraExpress` middleware on the routes it guards. */
      principal?: Principal;
    }
  }
}

/**
 * Middleware that lets a request through only with a valid Tessera access token of the
 * verifier's app in `Authorization: Bearer <token>`, and sets `req.principal`. Otherwise it
 * answers with Tessera's error envelope: 401 with `WWW-Authenticate: Bearer` when there is no
 * token, `Bearer error="invalid_token"` (RFC 6750) when the token is refused (`invalid_token`,
 * `token_expired`, `session_revoked`, `user_disabled`), and 503 `unavailable` with `Retry-After`
 * when the app's keys cannot be fetched. Use it per route or for a router.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createVerifier } from '@tessera/verifier';
 * import { principalOf, tesseraExpress } from '@tessera/verifier/express';
 *
 * const verifier = createVerifier({ url: 'http://127.0.0.1:3000', app: 'demo/chat' });
 * const authenticate = tesseraExpress(verifier);
 * const app = express();
 * app.get('/health', (_req, res) => res.json({ ok: true }));
 * app.get('/me', authenticate, (req, res) => res.json({ userId: principalOf(req).userId }));
 * app.listen(8080);
 * ```
 */
export function tesseraExpress(verifier: Verifier): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const refuse = (thrown: unknown): void => {
      const error = asVerifierError(thrown);
      res.status(error.status).set(refusalHeaders(error)).json(envelopeOf(error));
    };
    let token: string;
    try {
      token = bearerToken(req.headers.authorization) ?? '';
    } catch (error) {
      refuse(error);
      return;
    }
    verifier.verify(token).then((principal) => {
      req.principal = principal;
      next();
    }, refuse);
  };
}

/**
 * The principal the `tesseraExpress` middleware set on this request. Throws a
 * `missing_credentials` {@link VerifierError} on a route the middleware does not guard.
 *
 * @example
 * ```ts
 * app.get('/rooms', authenticate, (req, res) => res.json(roomsOf(principalOf(req).userId)));
 * ```
 */
export function principalOf(req: Request): Principal {
  if (req.principal === undefined)
    throw new VerifierError('missing_credentials', { message: 'This route is not guarded by tesseraExpress.' });
  return req.principal;
}
