import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { TesseraError } from '../../errors.js';
import type { Services } from '../../services.js';
import { databaseNotAnswering } from '../errors.js';
import type { ServingState } from '../serving-state.js';

/** Liveness (the process answers) and readiness (its database answers and it is not shutting down). */
export function healthRoutes(services: Pick<Services, 'store'>, state: ServingState): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    const Status = Type.Object({ status: Type.String() });
    fastify.get('/healthz', { schema: { tags: ['operations'], response: { 200: Status } } }, () => ({ status: 'ok' }));
    fastify.get('/readyz', { schema: { tags: ['operations'], response: { 200: Status } } }, async () => {
      if (state.phase !== 'serving') throw new TesseraError('server_shutdown', { retryAfterSeconds: 1 });
      try {
        await services.store.ping();
      } catch (error) {
        throw databaseNotAnswering(error);
      }
      return { status: 'ready' };
    });
  };
}
