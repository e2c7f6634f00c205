import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Services } from '../../services.js';
import { appOf } from '../request-state.js';

/** The app's public signing keys, for anyone who verifies its access tokens offline. */
export function jwksRoutes(services: Pick<Services, 'signingKeys'>): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    fastify.get('/.well-known/jwks.json', {
      schema: {
        tags: ['keys'],
        summary: 'JSON Web Key Set of the app',
        response: { 200: Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }) },
      },
      handler: async (request, reply) => {
        void reply.header('cache-control', 'public, max-age=300');
        return services.signingKeys.jwks(appOf(request));
      },
    });
  };
}
