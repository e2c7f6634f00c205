import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { principalOf, tesseraExpress } from '../../src/integrations/express.js';
import { describeHttpGuard } from './http-guard.js';

// issue 15 item 4: an Express 5 API accepts Tessera's users, per route.
describeHttpGuard('@tessera/verifier/express with a real express 5', async (verifier) => {
  const app = express();
  const authenticate = tesseraExpress(verifier);
  app.get('/public', (req, res) => {
    res.json({ principal: req.principal });
  });
  app.get('/me', authenticate, (req, res) => {
    const { userId, sessionId, roles } = principalOf(req);
    res.json({ userId, sessionId, roles });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
