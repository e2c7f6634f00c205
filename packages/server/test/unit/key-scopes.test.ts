import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Scope } from '@tessera/protocol';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { publishableScope, secretScope } from '../../src/http/scopes.js';
import type { Services } from '../../src/services.js';

/**
 * Issue 14, item 4: every route that takes the secret key declares the scope it needs where it is
 * registered; a route that does not stops the server at start-up.
 */
// The hooks only read the services when a request arrives; these tests only register routes.
const notCalled = {} as Pick<Services, 'apps' | 'limits'>;

const routeWith =
  (config: { keyScope?: Scope | null }): FastifyPluginAsyncTypebox =>
  async (fastify) => {
    fastify.get('/users', { config }, () => ({}));
  };

async function start(scope: FastifyPluginAsyncTypebox): Promise<void> {
  const fastify = Fastify();
  try {
    await fastify.register(scope);
    await fastify.ready();
  } finally {
    await fastify.close();
  }
}

describe('scope declarations of key routes', () => {
  it('refuses to start with a secret-key route that declares no scope, naming the route', async () => {
    await expect(start(secretScope(notCalled, [routeWith({})]))).rejects.toThrow(
      /^GET \/users takes the secret key but declares no scope: give it config\.keyScope \(one of users:read, .*import\)\.$/,
    );
    await expect(start(secretScope(notCalled, [routeWith({ keyScope: null })]))).rejects.toThrow(
      'GET /users takes the secret key but declares no scope',
    );
    await expect(start(secretScope(notCalled, [routeWith({ keyScope: 'users:delete' as Scope })]))).rejects.toThrow(
      'declares no scope',
    );
  });

  it('starts when every secret-key route declares a scope', async () => {
    await expect(start(secretScope(notCalled, [routeWith({ keyScope: 'users:read' })]))).resolves.toBeUndefined();
  });

  it('asks the publishable scope for a scope or an explicit null', async () => {
    await expect(start(publishableScope(notCalled, [routeWith({})]))).rejects.toThrow(
      'GET /users takes the publishable or secret key but declares no scope',
    );
    await expect(start(publishableScope(notCalled, [routeWith({ keyScope: null })]))).resolves.toBeUndefined();
    await expect(start(publishableScope(notCalled, [routeWith({ keyScope: 'users:write' })]))).resolves.toBeUndefined();
  });
});
