import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { presentUser } from '../../presenters/users.js';
import { AdminUpdateUserBodySchema, CreateUserBodySchema } from '../../users/profile-schema.js';
import type { Services } from '../../services.js';
import { appOf, keyOf } from '../request-state.js';
import { UserParams, UserSchema, errorResponses, pageOf } from '../schemas.js';

/** Signup: with the publishable key when the app allows it, always with the secret key. */
export function signupRoutes(services: Pick<Services, 'limits' | 'users'>): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    const tags = ['users'];

    fastify.post('/users', {
      // Asked of a secret key only: a publishable key has no scopes.
      config: { keyScope: 'users:write' },
      schema: {
        tags,
        summary: 'Sign a user up',
        description: 'With the publishable key when the app allows public signup; always with the secret key.',
        body: CreateUserBodySchema,
        response: { 201: UserSchema, ...errorResponses(400, 401, 403, 409, 429, 503) },
      },
      handler: async (request, reply) => {
        const app = appOf(request);
        const key = keyOf(request);
        // The app's backend may sign up as many users as it likes; the public may not.
        if (key.kind !== 'secret') await services.limits.consume(app, 'signup', request.ip);
        const user = await services.users.signup(app, request.body, { viaSecretKey: key.kind === 'secret' });
        return reply.status(201).send(presentUser(user));
      },
    });
  };
}

/** User administration by the app's backend (secret key). */
export function userRoutes(services: Pick<Services, 'users'>): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    const tags = ['users'];

    fastify.get('/users', {
      config: { keyScope: 'users:read' },
      schema: {
        tags,
        summary: 'List users (secret key)',
        querystring: Type.Object(
          {
            prefix: Type.Optional(
              Type.String({ maxLength: 254, description: 'Case-insensitive prefix of username or email.' }),
            ),
            cursor: Type.Optional(Type.String({ maxLength: 64 })),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(UserSchema), ...errorResponses(400, 401, 403) },
      },
      handler: async (request) => {
        const app = appOf(request);
        return services.users.list(app, request.query);
      },
    });

    fastify.get('/users/:userId', {
      config: { keyScope: 'users:read' },
      schema: {
        tags,
        summary: 'Get a user (secret key)',
        params: UserParams,
        response: { 200: UserSchema, ...errorResponses(401, 403, 404) },
      },
      handler: async (request) => {
        const app = appOf(request);
        return presentUser(await services.users.get(app, request.params.userId));
      },
    });

    fastify.patch('/users/:userId', {
      config: { keyScope: 'users:write' },
      schema: {
        tags,
        summary: 'Update, disable or enable a user (secret key)',
        params: UserParams,
        body: AdminUpdateUserBodySchema,
        response: { 200: UserSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
      handler: async (request) => {
        const app = appOf(request);
        return presentUser(await services.users.updateAsAdmin(app, request.params.userId, request.body));
      },
    });

    fastify.delete('/users/:userId', {
      config: { keyScope: 'users:write' },
      schema: {
        tags,
        summary: 'Delete a user and end its sessions (secret key)',
        params: UserParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
      handler: async (request, reply) => {
        const app = appOf(request);
        await services.users.delete(app, request.params.userId);
        return reply.status(204).send(null);
      },
    });
  };
}
