// The baseline: a bare Fastify route answering a user-sized JSON object, with nothing else.
import Fastify from 'fastify';

const user = {
  id: '0190f3a1-7c1e-7000-8000-000000000000',
  kind: 'registered',
  username: null,
  email: 'bench@example.com',
  fullName: 'Bench User',
  phone: null,
  website: null,
  avatarUrl: null,
  tags: [],
  customData: null,
  disabled: false,
  createdAt: '2026-11-24T00:00:00.000Z',
  updatedAt: '2026-11-24T00:00:00.000Z',
  lastLoginAt: '2026-11-24T00:00:00.000Z',
};

const fastify = Fastify({ logger: false });
fastify.get('/me', () => user);
const address = await fastify.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${address}\n`);
process.once('SIGTERM', () => fastify.close().then(() => process.exit(0)));
