import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { appOf, decorateCallerState, keyOf, userOf } from '../../src/http/request-state.js';

describe('request state', () => {
  it('names the route and the scope it is missing when a route reads what its scope never set', async () => {
    const fastify = Fastify();
    decorateCallerState(fastify);
    fastify.get('/app', (request) => appOf(request).id);
    fastify.get('/key', (request) => keyOf(request).id);
    fastify.get('/user', (request) => userOf(request).user.id);

    const messages: string[] = [];
    for (const url of ['/app', '/key', '/user']) {
      const response = await fastify.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(500);
      messages.push(response.json<{ message: string }>().message);
    }
    expect(messages).toEqual([
      'GET /app reads the app, set only in the app scope.',
      'GET /key reads an API key, set only in the publishable and secret scopes.',
      'GET /user reads a user, set only in the user scope.',
    ]);
    await fastify.close();
  });
});
