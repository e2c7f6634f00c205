import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { preHandlerHookHandler } from 'fastify';
import { callbackOnce } from '../lib/maybe-promise.js';
import type { Services } from '../services.js';
import { appOf } from './request-state.js';
import { externalIdIn } from '../users/user-address.js';

export { USER_ADDRESS_MAX_LENGTH } from '../users/user-address.js';

type AddressedParams = { userId?: unknown };

/**
 * Routes under `…/users/{userId}` whose handlers may then read `userId` as Tessera's id: a
 * preHandler (after the secret key's, which is the parent scope's) turns `external:{externalId}`
 * into the id of the app's user with that externalId (see users/user-address.ts), or answers
 * user_not_found.
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
    const { userId } = request.params as AddressedParams;
    if (typeof userId !== 'string' || externalIdIn(userId) === undefined) {
      done();
      return;
    }
    callbackOnce(
      () => services.users.idOf(appOf(request), userId),
      (id) => {
        (request.params as AddressedParams).userId = id;
      },
      done,
    );
  };
}
