import type { AccessTokenClaims, AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, logInTo, type TestApp } from '../../server/test/helpers/apps.js';
import { backends } from '../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { principalOf } from '../src/principal.js';
import { createVerifier } from '../src/index.js';

// Issue 15, item 1: the principal carries the user's kind.

const claims: AccessTokenClaims = {
  iss: 'http://127.0.0.1:3000/v1/apps/demo/chat',
  aud: 'demo/chat',
  sub: 'u1',
  sid: 's1',
  iat: 1_800_000_000,
  exp: 1_800_000_900,
  jti: 'j1',
};

describe('principalOf (verifier/src/principal.ts)', () => {
  it('carries the kind claim as kind', () => {
    expect(principalOf({ ...claims, kind: 'guest' }).kind).toBe('guest');
  });

  it('leaves kind undefined for a token issued before the claim existed', () => {
    const principal = principalOf(claims);
    expect(principal.kind).toBeUndefined();
    expect('kind' in principal).toBe(false);
    expect(principal).toMatchObject({ userId: 'u1', sessionId: 's1', app: 'demo/chat', roles: [] });
  });
});

describe('the principal of a real token carries its kind', () => {
  let server: TestServer;
  let app: TestApp;

  beforeAll(async () => {
    server = await startTestServer(backends[0]!);
    app = await createApp(server, { strategies: { anonymous: { enabled: true }, guest: { enabled: true } } });
  });
  afterAll(() => server.close());

  it('anonymous and guest logins answer principals of those kinds', async () => {
    const verifier = createVerifier({
      url: server.url,
      app: `${app.namespace}/${app.name}`,
      now: () => server.clock.now(),
    });
    try {
      const anonymous: AuthenticationResult = await logInTo(server, app, { strategy: 'anonymous' });
      expect((await verifier.verify(anonymous.accessToken)).kind).toBe('anonymous');
      const guest = await logInTo(server, app, { strategy: 'guest', fullName: 'Grace' });
      expect((await verifier.verify(guest.accessToken)).kind).toBe('guest');
    } finally {
      verifier.close();
    }
  });
});
