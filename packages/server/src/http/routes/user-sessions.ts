import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { TesseraError } from '../../errors.js';
import { presentSession } from '../../presenters/users.js';
import type { LiveConnections, Services } from '../../services.js';
import { appOf } from '../request-state.js';
import { RevokedCountSchema, SessionSchema, UserParams, errorResponses } from '../schemas.js';

const SessionParams = Type.Object({ ...UserParams.properties, sessionId: Type.String({ maxLength: 64 }) });

/** A user's sessions as the app's backend sees them (secret key): list them, end one or all. */
export function userSessionRoutes(
  services: Pick<Services, 'sessions' | 'users'>,
  live: LiveConnections,
): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    const tags = ['users'];

    fastify.get('/users/:userId/sessions', {
      config: { keyScope: 'sessions:read' },
      schema: {
        tags,
        summary: "A user's live sessions, with their open realtime connections (secret key)",
        params: UserParams,
        response: { 200: Type.Object({ items: Type.Array(SessionSchema) }), ...errorResponses(401, 403, 404) },
      },
      handler: async (request) => {
        const app = appOf(request);
        const user = await services.users.get(app, request.params.userId);
        const connections = live.connectionsBySession(app.id, user.id);
        return { items: (await services.sessions.list(user)).map((session) => presentSession(session, connections)) };
      },
    });

    fastify.delete('/users/:userId/sessions', {
      config: { keyScope: 'sessions:write' },
      schema: {
        tags,
        summary: 'End every session of a user (secret key)',
        description:
          'The user stays and may log in again; its realtime sockets close with session_revoked (reason revoked) on every node.',
        params: UserParams,
        response: { 200: RevokedCountSchema, ...errorResponses(401, 403, 404) },
      },
      handler: async (request) => {
        const app = appOf(request);
        const user = await services.users.get(app, request.params.userId);
        return { revoked: (await services.sessions.revokeAll(user, 'revoked')).length };
      },
    });

    fastify.delete('/users/:userId/sessions/:sessionId', {
      config: { keyScope: 'sessions:write' },
      schema: {
        tags,
        summary: 'End one session of a user (secret key)',
        params: SessionParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
      handler: async (request, reply) => {
        const app = appOf(request);
        const user = await services.users.get(app, request.params.userId);
        if (!(await services.sessions.revoke(user, request.params.sessionId, 'revoked')))
          throw new TesseraError('session_not_found');
        return reply.status(204).send(null);
      },
    });
  };
}
