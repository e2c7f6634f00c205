import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, LoopbackHttpServer } from '../../../server/test/helpers/http-server.js';
import type { Verifier } from '../../src/index.js';
import { startFixture, type Fixture } from './fixture.js';

/**
 * An app's HTTP server on 127.0.0.1 with `GET /public` (unguarded; answers `{ principal }`, which
 * must be absent) and `GET /me` (guarded; answers the principal's user id, session id and roles).
 */
export interface GuardedServer {
  url: string;
  close(): Promise<void>;
}

async function get(url: string, token?: string) {
  const response = await fetch(url, token === undefined ? {} : { headers: { authorization: token } });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** The behaviour every HTTP integration shares, against a real Tessera. */
export function describeHttpGuard(name: string, start: (verifier: Verifier) => Promise<GuardedServer>): void {
  describe(`${name} against a real Tessera`, () => {
    let fixture: Fixture;
    let server: GuardedServer;
    let user: User;
    let login: AuthenticationResult;

    beforeAll(async () => {
      fixture = await startFixture();
      server = await start(fixture.verifier);
      user = await fixture.newUser(['member']);
      login = await fixture.logIn(user);
    });
    afterAll(async () => {
      await server?.close();
      await fixture?.close();
    });

    it('sets the principal of a valid bearer token on a guarded route, and nothing on others', async () => {
      await expect(get(`${server.url}/me`, `Bearer ${login.accessToken}`)).resolves.toMatchObject({
        status: 200,
        body: { userId: user.id, sessionId: login.session.id, roles: ['member'] },
      });
      await expect(get(`${server.url}/public`)).resolves.toMatchObject({ status: 200, body: {} });
    });

    it("answers 401 with Tessera's envelope and WWW-Authenticate (RFC 6750) without a valid token", async () => {
      const missing = await get(`${server.url}/me`);
      expect(missing).toMatchObject({ status: 401, body: { error: { code: 'missing_credentials', status: 401 } } });
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      const tampered = `${login.accessToken.slice(0, -4)}AAAA`;
      for (const authorization of [`Bearer ${tampered}`, 'Bearer not-a-token', `Basic ${login.accessToken}`]) {
        const refused = await get(`${server.url}/me`, authorization);
        expect(refused, authorization).toMatchObject({
          status: 401,
          body: { error: { code: 'invalid_token', status: 401, message: expect.any(String) as string } },
        });
        expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
        expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
        expect(JSON.stringify(refused.body)).not.toContain(tampered);
      }
    });

    it('refuses the token of a session logged out on Tessera, and of a disabled user', async () => {
      const ended = await fixture.logIn(user);
      await fixture.logOut(ended);
      await expect(get(`${server.url}/me`, `Bearer ${ended.accessToken}`)).resolves.toMatchObject({
        status: 401,
        body: { error: { code: 'session_revoked' } },
      });
      const other = await fixture.newUser();
      const session = await fixture.logIn(other);
      await fixture.disable(other, [session]);
      await expect(get(`${server.url}/me`, `Bearer ${session.accessToken}`)).resolves.toMatchObject({
        status: 401,
        body: { error: { code: 'user_disabled' } },
      });
      await expect(get(`${server.url}/me`, `Bearer ${login.accessToken}`)).resolves.toMatchObject({ status: 200 });
    });

    it('answers 503 unavailable, with Retry-After, when the keys cannot be fetched', async () => {
      const broken = new LoopbackHttpServer();
      await broken.start((_request, response) => json(500, {})(response));
      const other = await start(fixture.verifierOf({ url: broken.url, publicUrl: fixture.server.url }));
      try {
        const refused = await get(`${other.url}/me`, `Bearer ${login.accessToken}`);
        expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable', status: 503 } } });
        expect(refused.headers.get('retry-after')).toBe('1');
        expect(refused.headers.get('www-authenticate')).toBeNull();
      } finally {
        await other.close();
        await broken.close();
      }
    });

    it('answers token_expired once the token expired', async () => {
      const expiring = await fixture.logIn(user);
      const expiresAt = Date.parse(expiring.authentication.accessTokenExpiresAt);
      fixture.server.clock.advance(expiresAt - fixture.server.clock.now() + 60_000);
      const refused = await get(`${server.url}/me`, `Bearer ${expiring.accessToken}`);
      expect(refused).toMatchObject({ status: 401, body: { error: { code: 'token_expired' } } });
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    });
  });
}
