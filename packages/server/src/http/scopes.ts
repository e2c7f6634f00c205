import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { onRouteHookHandler, preHandlerHookHandler } from 'fastify';
import { callbackOnce } from '../lib/maybe-promise.js';
import type { Services } from '../services.js';
import { requireKey, requireUser } from './credentials.js';
import { appOf, setKey, setUser } from './request-state.js';
import { assertKeyScope, declaredKeyScope } from './key-scopes.js';

/*
 * The app's routes sit in three scopes by the credential they take; each scope has one hook that
 * checks it for exactly the routes registered in it (Fastify's encapsulation).
 *
 * The hook is a preHandler, where the handlers checked the credential before: after the body is
 * parsed and validated, so a bad body still answers 400 before a missing key answers 401. It takes
 * Fastify's callback form: when this node's caches hold the token and session, the check and the
 * answer stay in the request's tick (see lib/maybe-promise.ts).
 */

type KeyServices = Pick<Services, 'apps' | 'limits'>;

function credentialScope(
  check: preHandlerHookHandler,
  routes: FastifyPluginAsyncTypebox[],
  onRoute?: onRouteHookHandler,
): FastifyPluginAsyncTypebox {
  return async (scope) => {
    if (onRoute !== undefined) scope.addHook('onRoute', onRoute);
    scope.addHook('preHandler', check);
    for (const plugin of routes) await scope.register(plugin);
  };
}

/** The key, then (for a secret key) the scope the route declares: `insufficient_scope` after a valid key only. */
function keyCheck(services: KeyServices, kind: 'any' | 'secret'): preHandlerHookHandler {
  return (request, _reply, done) =>
    callbackOnce(
      () =>
        requireKey(services, request, appOf(request), kind).then((key) => {
          assertKeyScope(key, request.routeOptions.config.keyScope);
          return key;
        }),
      (key) => setKey(request, key),
      done,
    );
}

/**
 * Routes that take the app's publishable or secret key (login, signup); `keyOf` reads which.
 * Each declares `config.keyScope`: the scope a secret key needs there, or `null` where a secret
 * key gets nothing a publishable key lacks.
 */
export function publishableScope(
  services: KeyServices,
  routes: FastifyPluginAsyncTypebox[],
): FastifyPluginAsyncTypebox {
  return credentialScope(keyCheck(services, 'any'), routes, declaredKeyScope('publishable'));
}

/**
 * Routes of the app's backend, which need the secret key; a publishable key is forbidden. Each
 * declares the scope it needs (`config: { keyScope: 'users:read' }`); a route that does not
 * stops the server at start-up.
 */
export function secretScope(services: KeyServices, routes: FastifyPluginAsyncTypebox[]): FastifyPluginAsyncTypebox {
  return credentialScope(keyCheck(services, 'secret'), routes, declaredKeyScope('secret'));
}

/** Routes of the signed-in user, who sends an access token; `userOf` reads the user and session. */
export function userScope(
  services: Pick<Services, 'limits' | 'sessions'>,
  routes: FastifyPluginAsyncTypebox[],
): FastifyPluginAsyncTypebox {
  return credentialScope(
    (request, _reply, done) =>
      callbackOnce(
        () => requireUser(services, request, appOf(request)),
        (context) => setUser(request, context),
        done,
      ),
    routes,
  );
}
