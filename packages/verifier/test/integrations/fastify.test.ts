import Fastify from 'fastify';
import { principalOf, tesseraFastify } from '../../src/integrations/fastify.js';
import { describeHttpGuard } from './http-guard.js';

// issue 15 item 4: a Fastify API accepts Tessera's users, per route.
describeHttpGuard('@tessera/verifier/fastify with a real fastify', async (verifier) => {
  const app = Fastify();
  const authenticate = tesseraFastify(verifier);
  app.get('/public', (request) => ({ principal: request.principal }));
  app.get('/me', { onRequest: authenticate }, (request) => {
    const { userId, sessionId, roles } = principalOf(request);
    return { userId, sessionId, roles };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
});
