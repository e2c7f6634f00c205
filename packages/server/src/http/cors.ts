import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ANY_ORIGIN, originAllowed, originNotAllowed } from '../apps/allowed-origins.js';
import type { AppRecord } from '../store/repositories/index.js';
import { KEY_HEADER } from './credentials.js';
import { appOf } from './request-state.js';

/*
 * CORS for `/v1/apps/{namespace}/{app}/…`, decided per app by `settings.allowedOrigins`.
 *
 * A hook of our own rather than @fastify/cors: the decision needs the app, which the app
 * scope's onRequest hook has just read (synchronously when cached), and @fastify/cors would
 * run a second hook on every request, set `Vary` even on requests without an Origin, and
 * answer a refused preflight with its own 404 or text/plain 400 instead of Tessera's envelope.
 * Tessera authenticates with bearer tokens, never cookies: no Allow-Credentials.
 */

/** Answer headers the client SDK reads. */
const EXPOSED_HEADERS = 'x-request-id, retry-after';
const ALLOWED_METHODS = 'GET, POST, PATCH, DELETE';
const ALLOWED_HEADERS = `authorization, content-type, ${KEY_HEADER}, x-request-id`;
/** How long a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * Adds the CORS headers to the answer when the request's origin is one the app allows. Called
 * once the app is known; a request without an Origin (same-origin GETs, servers) to an app
 * that allows no other origin costs one header read.
 */
export function allowCrossOrigin(request: FastifyRequest, reply: FastifyReply, app: AppRecord): void {
  const origin = request.headers.origin;
  const { allowedOrigins } = app.settings;
  // The answer depends on the Origin, whether it is allowed or not, or absent: a cache (of the
  // JWKS, the one cacheable answer) must not give one origin's answer to another.
  if (origin === undefined) {
    if (allowedOrigins.length > 0) void reply.header('vary', 'Origin');
    return;
  }
  void reply.header('vary', 'Origin');
  if (!originAllowed(allowedOrigins, origin)) return;
  void reply.header('access-control-allow-origin', allowedOrigins[0] === ANY_ORIGIN ? '*' : origin);
  void reply.header('access-control-expose-headers', EXPOSED_HEADERS);
}

/**
 * Preflights: `OPTIONS` on any path of the app. An allowed origin gets 204 with what it may
 * send. Any other is refused with 403 origin_not_allowed and no CORS headers rather than a bare
 * 204: the browser refuses the call either way, but a refusal then reads as one in the browser's
 * network panel and in the request log, and its message names the setting to change.
 */
export function preflightRoutes(): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    fastify.options('/*', { schema: { hide: true } }, (request, reply) => {
      const origin = request.headers.origin;
      if (origin === undefined || !originAllowed(appOf(request).settings.allowedOrigins, origin))
        throw originNotAllowed(origin);
      void reply.header('access-control-allow-methods', ALLOWED_METHODS);
      void reply.header('access-control-allow-headers', ALLOWED_HEADERS);
      void reply.header('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
      return reply.status(204).send();
    });
  };
}
