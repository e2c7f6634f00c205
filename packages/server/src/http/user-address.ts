import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import { TesseraError } from '../errors.js';
import { callbackOnce } from '../lib/maybe-promise.js';
import type { Services } from '../services.js';
import { appOf } from './request-state.js';

/**
 * The one other way to name a user in `…/users/{userId}`: `external:` then its externalId
 * (URL-encoded or not: `:` and every externalId character are allowed in a path segment).
 * Tessera's own ids are UUIDs, which never contain `:`, so the two forms cannot be confused.
 */
export const EXTERNAL_ADDRESS_PREFIX = 'external:';

/** The longest `{userId}` a route takes: `external:` and the longest externalId (100). */
export const USER_ADDRESS_MAX_LENGTH = EXTERNAL_ADDRESS_PREFIX.length + 100;

type AddressedParams = { userId?: unknown };

/**
 * Routes under `…/users/{userId}` whose handlers may then read `userId` as Tessera's id: a
 * preHandler (after the secret key's, which is the parent scope's) turns `external:{externalId}`
 * into the id of the app's user with that externalId, or answers user_not_found.
 */
export function userAddressScope(
  services: Pick<Services, 'users'>,
  routes: FastifyPluginAsyncTypebox[],
): FastifyPluginAsyncTypebox {
  return async (scope) => {
    scope.addHook('preHandler', resolveExternalAddress(services));
    for (const plugin of routes) await scope.register(plugin);
  };
}

function resolveExternalAddress(services: Pick<Services, 'users'>): preHandlerHookHandler {
  return (request, _reply, done) => {
    const externalId = externalIdIn(request);
    if (externalId === undefined) {
      done();
      return;
    }
    callbackOnce(
      async () => {
        const user = await services.users.findByExternalId(appOf(request), externalId);
        if (user === undefined) throw new TesseraError('user_not_found');
        return user.id;
      },
      (id) => {
        (request.params as AddressedParams).userId = id;
      },
      done,
    );
  };
}

function externalIdIn(request: FastifyRequest): string | undefined {
  const { userId } = request.params as AddressedParams;
  if (typeof userId !== 'string' || !userId.startsWith(EXTERNAL_ADDRESS_PREFIX)) return undefined;
  return userId.slice(EXTERNAL_ADDRESS_PREFIX.length);
}
