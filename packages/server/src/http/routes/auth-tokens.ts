import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Services } from '../../services.js';
import { appOf } from '../request-state.js';
import {
  AuthTokenSchema,
  CreateAuthTokenBodySchema,
  CreatedAuthTokenSchema,
  UserParams,
  errorResponses,
} from '../schemas.js';

const TokenParams = Type.Object({ ...UserParams.properties, tokenId: Type.String({ maxLength: 64 }) });

/** A user's long-lived auth tokens, made, listed and revoked by the app's backend with the secret key. */
export function authTokenRoutes(services: Pick<Services, 'authTokens'>): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    const tags = ['auth tokens'];

    fastify.post('/users/:userId/auth-tokens', {
      config: { keyScope: 'auth-tokens:write' },
      schema: {
        tags,
        summary: 'Make an auth token for a user (secret key); the token is shown in this answer only',
        description:
          'The client logs in with `{ "strategy": "auth-token", "token": … }`. Only a hash of the token is kept.',
        params: UserParams,
        body: CreateAuthTokenBodySchema,
        response: {
          201: CreatedAuthTokenSchema,
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
      // Every field is optional, so a call with no body at all means "no label, no expiry".
      preValidation: async (request) => {
        request.body ??= {};
      },
      handler: async (request, reply) => {
        const app = appOf(request);
        const { token, metadata } = await services.authTokens.create(app, request.params.userId, request.body);
        return reply.status(201).send({ token, ...metadata });
      },
    });

    fastify.get('/users/:userId/auth-tokens', {
      config: { keyScope: 'auth-tokens:read' },
      schema: {
        tags,
        summary: "List a user's active auth tokens (secret key); never the tokens themselves",
        params: UserParams,
        response: { 200: Type.Object({ items: Type.Array(AuthTokenSchema) }), ...errorResponses(401, 403, 404) },
      },
      handler: async (request) => {
        const app = appOf(request);
        return { items: await services.authTokens.list(app, request.params.userId) };
      },
    });

    fastify.delete('/users/:userId/auth-tokens/:tokenId', {
      config: { keyScope: 'auth-tokens:write' },
      schema: {
        tags,
        summary: 'Revoke an auth token (secret key)',
        description:
          'The token can no longer log in. Sessions it already made go on until they end: the user can end them at /me/sessions, and disabling the user ends them all.',
        params: TokenParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
      handler: async (request, reply) => {
        const app = appOf(request);
        await services.authTokens.revoke(app, request.params.userId, request.params.tokenId);
        return reply.status(204).send(null);
      },
    });
  };
}
