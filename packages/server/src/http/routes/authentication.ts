import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { presentLogin } from '../../presenters/login.js';
import type { Services } from '../../services.js';
import { clientInfo } from '../credentials.js';
import { appOf, userOf } from '../request-state.js';
import { AuthenticationResultSchema, errorResponses } from '../schemas.js';

/** `POST …/authentication` logs in with any enabled strategy (publishable or secret key). */
export function loginRoutes(services: Pick<Services, 'strategies' | 'authenticator'>): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    const body = Type.Union(
      services.strategies.all.map((strategy) => strategy.input),
      {
        description:
          'The strategy named by `strategy`, with its fields. Feathers\' `{ strategy: "jwt", accessToken }` is taken as `access-token`.',
      },
    );

    fastify.post('/authentication', {
      // A secret key logs in as a publishable key does: no scope needed.
      config: { keyScope: null },
      schema: {
        tags: ['authentication'],
        summary: 'Log in',
        description: "Needs the app's publishable (or secret) key in X-Tessera-Key.",
        body,
        response: { 201: AuthenticationResultSchema, ...errorResponses(400, 401, 403, 404, 413, 429, 502, 503) },
      },
      // The authenticator validates the body against the named strategy, which gives a
      // precise error (`unknown_strategy`, the strategy's own field errors) instead of a union's.
      validatorCompiler: () => () => true,
      handler: async (request, reply) => {
        const app = appOf(request);
        const login = await services.authenticator.login(app, request.body, clientInfo(request));
        return reply.status(201).send(presentLogin(login));
      },
    });
  };
}

/** `DELETE …/authentication` logs out (access token). */
export function logoutRoutes(services: Pick<Services, 'sessions'>): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    fastify.delete('/authentication', {
      schema: {
        tags: ['authentication'],
        summary: 'Log out: end the session of the access token',
        response: { 200: Type.Object({ sessionId: Type.String() }), ...errorResponses(401) },
      },
      handler: async (request) => {
        const context = userOf(request);
        await services.sessions.revoke(context.user, context.session.id, 'logout');
        return { sessionId: context.session.id };
      },
    });
  };
}
