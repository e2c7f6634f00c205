import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUpAndLogIn } from '../helpers/users.js';

describe.each(backends)('reconnect tokens on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const reconnect = (token: string) =>
    server.api<AuthenticationResult>('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'reconnect', token },
    });

  it('resumes the same session with new tokens, once per token', async () => {
    const { login, user } = await signUpAndLogIn(server);
    server.clock.advance(1000);
    const next = await reconnect(login.reconnectToken);
    expect(next.status).toBe(201);
    expect(next.body).toMatchObject({
      authentication: { strategy: 'reconnect' },
      session: { id: login.session.id },
      user: { id: user.id },
    });
    expect(next.body.reconnectToken).not.toBe(login.reconnectToken);
    expect(next.body.accessToken).not.toBe(login.accessToken);
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: next.body.accessToken })).status).toBe(200);
  });

  it('ends the session when a spent token comes back after the grace period (RFC 9700 reuse detection)', async () => {
    const { login } = await signUpAndLogIn(server);
    const next = await reconnect(login.reconnectToken);
    expect(next.status).toBe(201);
    server.clock.advance(31_000);
    const replay = await reconnect(login.reconnectToken);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: { code: 'reconnect_token_reused' } });
    // The whole chain is dead: the rightful holder's newer tokens stop working too.
    expect((await reconnect(next.body.reconnectToken)).body).toMatchObject({ error: { code: 'session_revoked' } });
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: next.body.accessToken })).body).toMatchObject({
      error: { code: 'session_revoked', details: { reason: 'reconnect_token_reused' } },
    });
  });

  it('answers a spent token presented again within the grace period (a lost answer) with the same successor (issue 12)', async () => {
    const { login } = await signUpAndLogIn(server);
    const lost = await reconnect(login.reconnectToken);
    expect(lost.status).toBe(201);
    server.clock.advance(5_000);
    const retry = await reconnect(login.reconnectToken);
    expect(retry.status).toBe(201);
    expect(retry.body.session.id).toBe(login.session.id);
    expect(retry.body.reconnectToken).toBe(lost.body.reconnectToken);
    expect(retry.body.authentication.reconnectTokenExpiresAt).toBe(lost.body.authentication.reconnectTokenExpiresAt);
    // Whichever answer the client kept, its token works (once).
    const next = await reconnect(lost.body.reconnectToken);
    expect(next.status).toBe(201);
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: next.body.accessToken })).status).toBe(200);
  });

  it('is not forgiven once its successor has been used', async () => {
    const { login } = await signUpAndLogIn(server);
    const second = await reconnect(login.reconnectToken);
    expect((await reconnect(second.body.reconnectToken)).status).toBe(201);
    expect((await reconnect(login.reconnectToken)).body).toMatchObject({ error: { code: 'reconnect_token_reused' } });
  });

  it('lets exactly one of two simultaneous presentations through', async () => {
    const admin = { token: server.adminToken };
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      ...admin,
      body: { settings: { reconnectGracePeriod: 0 } },
    });
    try {
      const { login } = await signUpAndLogIn(server);
      const results = await Promise.all([reconnect(login.reconnectToken), reconnect(login.reconnectToken)]);
      expect(results.map((result) => result.status).sort()).toEqual([201, 401]);
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        ...admin,
        body: { settings: { reconnectGracePeriod: 30 } },
      });
    }
  });

  it('expires after 24 hours', async () => {
    const admin = { token: server.adminToken };
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      ...admin,
      body: { settings: { sessionIdleTimeout: 3 * 24 * 3600 } },
    });
    try {
      const { login } = await signUpAndLogIn(server);
      server.clock.advance(24 * 3_600_000 + 1000);
      expect((await reconnect(login.reconnectToken)).body).toMatchObject({ error: { code: 'invalid_token' } });
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        ...admin,
        body: { settings: { sessionIdleTimeout: 2 * 3600 } },
      });
    }
  });

  it('refuses forged, malformed and foreign tokens with invalid_token', async () => {
    const { login } = await signUpAndLogIn(server);
    const [prefix] = login.reconnectToken.split('.');
    for (const token of [
      `${prefix}.${'A'.repeat(43)}`,
      'rt_nonsense',
      login.accessToken.slice(0, 200),
      server.publishableKey,
    ]) {
      const response = await reconnect(token);
      expect(response.status, token).toBe(401);
      expect(response.body).toMatchObject({ error: { code: 'invalid_token' } });
    }
  });
});
