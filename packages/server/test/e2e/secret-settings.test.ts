import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { handMade } from '../helpers/jwt.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Issue 3 cleanup: secrets inside app settings (a trusted issuer's HMAC secret, the identity
// provider's header values) never leave the admin API in full and are encrypted at rest.

const JWT_SECRET = 'trusted-issuer-hmac-secret-0123456789abcdef';
const HEADER_SECRET = 'idp-header-secret-value-0123456789';
const SHORT_HEADER = 'tiny-value';
const ISS = 'https://issuer.secrets.example';

type AppAnswer = {
  settings: {
    strategies: {
      jwt: { issuers: { secrets?: { secret: string }[] }[] };
      custom: { headers: { name: string; value: string }[] };
    };
  };
};

const settingsWithSecrets = (jwtSecret = JWT_SECRET) => ({
  strategies: {
    jwt: {
      enabled: true,
      issuers: [
        {
          id: 'hs',
          issuer: ISS,
          audience: 'demo-chat',
          secrets: [{ alg: 'HS256', secret: jwtSecret }],
          autoProvision: true,
        },
      ],
    },
    custom: {
      url: 'https://idp.secrets.example/verify',
      headers: [
        { name: 'X-Idp-Secret', value: HEADER_SECRET },
        { name: 'X-Short', value: SHORT_HEADER },
      ],
    },
  },
});

describe.each(backends)('secret settings on $name', (backend) => {
  let server: TestServer;
  let counter = 0;
  const admin = () => ({ token: server.adminToken });
  const patch = (settings: unknown, app = 'demo/chat') =>
    server.api<AppAnswer>('PATCH', `/v1/admin/apps/${app}`, { ...admin(), body: { settings } });
  const storedSettings = async (path = 'chat') => {
    const row = await server.tessera.services.store.db
      .selectFrom('apps')
      .select('settings')
      .where('name', '=', path)
      .executeTakeFirstOrThrow();
    return row.settings;
  };
  const token = (secret = JWT_SECRET) => {
    const now = Math.floor(server.clock.now() / 1000);
    counter += 1;
    return handMade(
      { alg: 'HS256', typ: 'JWT' },
      { iss: ISS, aud: 'demo-chat', sub: `secret-user-${counter}`, iat: now, exp: now + 600 },
      secret,
    );
  };
  const login = () =>
    server.api<AuthenticationResult>('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'jwt', token: token() },
    });

  beforeAll(async () => {
    server = await startTestServer(backend);
    const response = await patch(settingsWithSecrets());
    if (response.status !== 200) throw new Error(`settings refused: ${JSON.stringify(response.body)}`);
  });
  afterAll(async () => {
    await server.close();
  });

  it('never shows a secret in an admin answer: every marked field is masked', async () => {
    const patched = await patch({ publicSignup: true });
    const read = await server.api<AppAnswer>('GET', '/v1/admin/apps/demo/chat', admin());
    const listed = await server.api('GET', '/v1/admin/apps', admin());
    expect((await server.api('POST', '/v1/admin/namespaces', { ...admin(), body: { name: 'vault' } })).status).toBe(
      201,
    );
    const created = await server.api<AppAnswer>('POST', '/v1/admin/namespaces/vault/apps', {
      ...admin(),
      body: { name: 'made', settings: settingsWithSecrets() },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (const answer of [patched, read, listed, created]) {
      const text = JSON.stringify(answer.body);
      for (const secret of [JWT_SECRET, HEADER_SECRET, SHORT_HEADER]) expect(text).not.toContain(secret);
    }
    expect(read.body.settings.strategies.jwt.issuers[0]!.secrets).toEqual([
      expect.objectContaining({ secret: `••••••••${JWT_SECRET.slice(-4)}` }),
    ]);
    expect(read.body.settings.strategies.custom.headers).toEqual([
      { name: 'X-Idp-Secret', value: `••••••••${HEADER_SECRET.slice(-4)}` },
      { name: 'X-Short', value: '••••••••' },
    ]);
    expect(created.body.settings.strategies.jwt.issuers[0]!.secrets![0]!.secret).toBe(
      `••••••••${JWT_SECRET.slice(-4)}`,
    );
  });

  it('stores secrets encrypted, each bound to its app: the row never holds one in clear', async () => {
    for (const app of ['chat', 'made']) {
      const stored = await storedSettings(app);
      for (const secret of [JWT_SECRET, HEADER_SECRET, SHORT_HEADER]) {
        expect(stored).not.toContain(secret);
        expect(stored).not.toContain(Buffer.from(secret).toString('base64'));
        expect(stored).not.toContain(Buffer.from(secret).toString('base64url'));
      }
      const document = JSON.parse(stored) as AppAnswer['settings'] & {
        strategies: { jwt: { issuers: { secrets: { secret: unknown }[] }[] } };
      };
      expect(document.strategies.jwt.issuers[0]!.secrets[0]!.secret).toEqual({
        sealed: expect.stringMatching(/^v1\./),
      });
      // Other settings stay readable as they are.
      expect(document.strategies.jwt.issuers[0]).toMatchObject({ id: 'hs', issuer: ISS, audience: 'demo-chat' });
    }
    // The same secret is sealed differently in each app (a fresh IV, and the app in the associated data).
    expect(await storedSettings('chat')).not.toBe(await storedSettings('made'));
  });

  it('logs in with the secret, and refuses a token signed with another', async () => {
    expect((await login()).status).toBe(201);
    const forged = await server.api('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'jwt', token: token(`${JWT_SECRET}-forged`) },
    });
    // One answer for every refusal (issue 12): the reason, bad_signature, is in the log only.
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ error: { code: 'invalid_token' } });
    expect(forged.body).not.toHaveProperty('error.details');
  });

  it('refuses settings sent back with their masks, naming the field, and keeps the secrets', async () => {
    const before = await storedSettings();
    const read = await server.api<AppAnswer>('GET', '/v1/admin/apps/demo/chat', admin());
    const sentBack = await patch({ strategies: { jwt: read.body.settings.strategies.jwt } });
    expect(sentBack.status).toBe(400);
    expect(sentBack.body).toMatchObject({
      error: {
        code: 'invalid_request',
        message: expect.stringContaining('strategies.jwt.issuers.0.secrets.0.secret'),
        details: [{ path: '/settings/strategies/jwt/issuers/0/secrets/0/secret' }],
      },
    });
    const wholeDocument = await patch(read.body.settings);
    expect(wholeDocument.body).toMatchObject({ error: { code: 'invalid_request' } });
    const newApp = await server.api('POST', '/v1/admin/namespaces/vault/apps', {
      ...admin(),
      body: { name: 'masked', settings: read.body.settings },
    });
    expect(newApp.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect(await storedSettings()).toBe(before);
    expect((await login()).status).toBe(201);

    // A patch that leaves the secrets out keeps them.
    expect((await patch({ strategies: { jwt: { enabled: true } } })).status).toBe(200);
    expect((await login()).status).toBe(201);
  });

  it('still logs in with the secret after a restart, read back from the database', async () => {
    server = await server.restart();
    const response = await login();
    expect(response.status, JSON.stringify(response.body)).toBe(201);
  });

  it('seals at start-up the secrets an older version stored in clear, changing nothing else', async () => {
    const stored = JSON.parse(await storedSettings()) as {
      strategies: { jwt: { issuers: { secrets: { secret: unknown }[] }[] }; custom: { headers: { value: unknown }[] } };
    };
    stored.strategies.jwt.issuers[0]!.secrets[0]!.secret = JWT_SECRET;
    stored.strategies.custom.headers[1]!.value = SHORT_HEADER;
    const db = server.tessera.services.store.db;
    await db
      .updateTable('apps')
      .set({ settings: JSON.stringify(stored) })
      .where('name', '=', 'chat')
      .execute();
    // What an older version wrote is read as it is…
    expect(await storedSettings()).toContain(JWT_SECRET);

    server = await server.restart();
    const resealed = await storedSettings();
    // …and sealed by the next start.
    expect(resealed).not.toContain(JWT_SECRET);
    expect(resealed).not.toContain(SHORT_HEADER);
    expect(JSON.parse(resealed)).toMatchObject({
      strategies: {
        jwt: { issuers: [{ secrets: [{ secret: { sealed: expect.any(String) } }] }] },
        custom: { headers: [{}, { value: { sealed: expect.any(String) } }] },
      },
    });
    expect((await login()).status).toBe(201);
    const read = await server.api<AppAnswer>('GET', '/v1/admin/apps/demo/chat', admin());
    expect(read.body.settings.strategies.custom.headers[1]).toEqual({ name: 'X-Short', value: '••••••••' });
  });
});
