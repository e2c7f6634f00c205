import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTessera, type Tessera } from '../../src/tessera.js';
import { createLogger } from '../../src/logger.js';
import { backends } from '../helpers/backends.js';
import { makeApi, startTestServer, type Api, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
const CACHE_TTL_MS = 2000;

/** Where a node listens (its public URL is the shared issuer's, which nothing serves). */
function localUrl(node: Tessera): string {
  const address = node.http.server.address();
  if (address === null || typeof address === 'string') throw new Error('the node does not listen on TCP');
  return `http://127.0.0.1:${address.port}`;
}

// Issue 12, item 13: how long another node may still accept a session that was ended. Normally
// the bus tells it before the logout is answered; when that message is lost, the node's cached
// view of the session bounds the window. Two in-process nodes on one database, each with a bus of
// its own (no Redis), so that no message crosses between them: every message is lost. Time is
// the nodes' shared injected clock.
describe.each(backends)('a revocation whose message is lost (issue 12) ($name)', (backend) => {
  let nodeA: TestServer;
  let nodeB: Tessera;
  let apiA: Api;
  let apiB: Api;

  beforeAll(async () => {
    // One issuer for both nodes, as behind a load balancer.
    nodeA = await startTestServer(backend, { publicUrl: 'http://tessera.test', sessionCacheTtlMs: CACHE_TTL_MS });
    nodeB = await createTessera({
      config: nodeA.tessera.config,
      clock: nodeA.clock,
      scheduler: nodeA.clock,
      logger: createLogger('silent'),
    });
    await nodeB.listen();
    apiA = makeApi(localUrl(nodeA.tessera));
    apiB = makeApi(localUrl(nodeB));
  });
  afterAll(async () => {
    await nodeB?.close();
    await nodeA?.close();
  });

  async function logInOnA(): Promise<string> {
    const email = uniqueEmail('window');
    expect(
      (await apiA('POST', `${APP}/users`, { key: nodeA.publishableKey, body: { email, password: PASSWORD } })).status,
    ).toBe(201);
    const login = await apiA<AuthenticationResult>('POST', `${APP}/authentication`, {
      key: nodeA.publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    expect(login.status).toBe(201);
    return login.body.accessToken;
  }

  const meOnB = (token: string) => apiB<{ error?: { code: string } }>('GET', `${APP}/me`, { token });

  it('is accepted on the other node no longer than the session cache lifetime after it was read there', async () => {
    const token = await logInOnA();
    // Node B reads the session now, and keeps that view.
    expect((await meOnB(token)).status).toBe(200);

    expect((await apiA('DELETE', `${APP}/authentication`, { token })).status).toBe(200);
    expect((await apiA('GET', `${APP}/me`, { token })).body).toMatchObject({ error: { code: 'session_revoked' } });

    // The message never reached B: its view stands until it is CACHE_TTL_MS old…
    nodeA.clock.advance(CACHE_TTL_MS - 1);
    expect((await meOnB(token)).status).toBe(200);
    // …and not a millisecond longer.
    nodeA.clock.advance(1);
    const after = await meOnB(token);
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: { code: 'session_revoked' } });
  });

  it("bounds a disabled user's window the same way", async () => {
    const token = await logInOnA();
    expect((await meOnB(token)).status).toBe(200);
    const me = await apiA<{ id: string }>('GET', `${APP}/me`, { token });
    const disabled = await apiA('PATCH', `${APP}/users/${me.body.id}`, {
      key: nodeA.secretKey,
      body: { disabled: true },
    });
    expect(disabled.status).toBe(200);

    nodeA.clock.advance(CACHE_TTL_MS - 1);
    expect((await meOnB(token)).status).toBe(200);
    nodeA.clock.advance(1);
    expect((await meOnB(token)).body).toMatchObject({ error: { code: 'user_disabled' } });
  });
});
