import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { TesseraError } from '../../errors.js';
import { presentLogin } from '../../presenters/login.js';
import { presentSession, presentUser } from '../../presenters/users.js';
import { SignupBodySchema, UpdateMeBodySchema } from '../../users/profile-schema.js';
import type { LiveConnections, Services } from '../../services.js';
import { clientInfo } from '../credentials.js';
import { userOf } from '../request-state.js';
import {
  AuthenticationResultSchema,
  RevokedCountSchema,
  SessionSchema,
  UserSchema,
  errorResponses,
} from '../schemas.js';

/** The signed-in user's own profile and sessions. */
export function meRoutes(
  services: Pick<Services, 'anonymousUpgrade' | 'sessions' | 'users'>,
  live: LiveConnections,
): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    const tags = ['me'];

    fastify.get('/me', {
      schema: { tags, summary: 'The signed-in user', response: { 200: UserSchema, ...errorResponses(401) } },
      handler: (request) => presentUser(userOf(request).user),
    });

    fastify.patch('/me', {
      schema: {
        tags,
        summary: 'Update the signed-in user; a new password needs oldPassword and ends the other sessions',
        body: UpdateMeBodySchema,
        response: { 200: UserSchema, ...errorResponses(400, 401, 403, 409) },
      },
      handler: async (request) => {
        const context = userOf(request);
        return presentUser(await services.users.updateSelf(context, request.body));
      },
    });

    fastify.post('/me/upgrade', {
      schema: {
        tags,
        summary: 'Turn the signed-in anonymous user into a registered one',
        description:
          'Same id; username and/or email and password as at signup. Answers new tokens as a login does; the tokens issued before stop working.',
        body: SignupBodySchema,
        response: { 200: AuthenticationResultSchema, ...errorResponses(400, 401, 403, 409, 503) },
      },
      handler: async (request) => {
        const context = userOf(request);
        return presentLogin(await services.anonymousUpgrade.upgrade(context, request.body, clientInfo(request)));
      },
    });

    fastify.get('/me/sessions', {
      schema: {
        tags,
        summary: "The signed-in user's live sessions",
        response: { 200: Type.Object({ items: Type.Array(SessionSchema) }), ...errorResponses(401) },
      },
      handler: async (request) => {
        const context = userOf(request);
        const sessions = await services.sessions.list(context.user);
        const connections = live.connectionsBySession(context.app.id, context.user.id);
        return { items: sessions.map((session) => presentSession(session, connections, context.session.id)) };
      },
    });

    fastify.delete('/me/sessions', {
      schema: {
        tags,
        summary: 'End all of the signed-in user\'s sessions ("log out everywhere")',
        description:
          'Every session of the user ends, the calling one too, and their realtime sockets close with session_revoked (reason logout) on every node. With `?except=current` the calling session stays ("log out my other devices").',
        querystring: Type.Object(
          {
            except: Type.Optional(
              Type.Literal('current', { description: 'Keep the session whose access token makes this call.' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: RevokedCountSchema, ...errorResponses(400, 401) },
      },
      handler: async (request) => {
        const context = userOf(request);
        const keep = request.query.except === 'current' ? context.session.id : undefined;
        return { revoked: (await services.sessions.revokeAll(context.user, 'logout', keep)).length };
      },
    });

    fastify.delete('/me/sessions/:sessionId', {
      schema: {
        tags,
        summary: "End one of the signed-in user's sessions",
        params: Type.Object({
          namespace: Type.String(),
          app: Type.String(),
          sessionId: Type.String({ maxLength: 64 }),
        }),
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
      handler: async (request, reply) => {
        const context = userOf(request);
        if (!(await services.sessions.revoke(context.user, request.params.sessionId, 'revoked')))
          throw new TesseraError('session_not_found');
        return reply.status(204).send(null);
      },
    });
  };
}
