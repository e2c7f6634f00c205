/**
 * `@tessera/verifier/fastify`: Fastify routes that accept Tessera's users only.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { VerifierError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { Verifier } from '../verifier.js';
import { asVerifierError, bearerToken, envelopeOf, refusalHeaders } from './common.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified Tessera principal, set by the `tesseraFastify` hook on the routes it guards. */
    principal?: Principal;
  }
}

/**
 * An `onRequest` (or `preHandler`) hook that lets a request through only with a valid Tessera
 * access token of the verifier's app in `Authorization: Bearer <token>`, and sets
 * `request.principal`. Otherwise it answers with Tessera's error envelope: 401 with
 * `WWW-Authenticate: Bearer` when there is no token, `Bearer error="invalid_token"` (RFC 6750)
 * when the token is refused (`invalid_token`, `token_expired`, `session_revoked`,
 * `user_disabled`), and 503 `unavailable` with `Retry-After` when the app's keys cannot be
 * fetched. Use it per route (`{ onRequest: authenticate }`) or for every route of a scope
 * (`scope.addHook('onRequest', authenticate)`).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createVerifier } from '@tessera/verifier';
 * import { principalOf, tesseraFastify } from '@tessera/verifier/fastify';
 *
 * const verifier = createVerifier({ url: 'http://127.0.0.1:3000', app: 'demo/chat' });
 * const authenticate = tesseraFastify(verifier);
 * const app = Fastify();
 * app.get('/health', () => ({ ok: true }));
 * app.get('/me', { onRequest: authenticate }, (request) => ({ userId: principalOf(request).userId }));
 * await app.listen({ port: 8080 });
 * ```
 */
export function tesseraFastify(
  verifier: Verifier,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  return async (request, reply) => {
    try {
      request.principal = await verifier.verify(bearerToken(request.headers.authorization) ?? '');
      return undefined;
    } catch (thrown) {
      const error = asVerifierError(thrown);
      return reply.code(error.status).headers(refusalHeaders(error)).send(envelopeOf(error));
    }
  };
}

/**
 * The principal the `tesseraFastify` hook set on this request. Throws a `missing_credentials`
 * {@link VerifierError} on a route the hook does not guard.
 *
 * @example
 * ```ts
 * app.get('/rooms', { onRequest: authenticate }, (request) => roomsOf(principalOf(request).userId));
 * ```
 */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined)
    throw new VerifierError('missing_credentials', { message: 'This route is not guarded by tesseraFastify.' });
  return request.principal;
}
