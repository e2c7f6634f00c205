import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsSealer } from '../../src/apps/sealed-settings.js';
import { parseAppSettings } from '../../src/apps/settings.js';
import { MasterKey } from '../../src/auth/keys/master-key.js';
import { SigningKeyService } from '../../src/auth/keys/signing-keys.js';
import { AccessTokenService } from '../../src/auth/tokens/access-tokens.js';
import { signCompactJws } from '../../src/auth/tokens/compact-jws.js';
import { ManualClock } from '../../src/lib/clock.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { migrateToLatest, openStore, type Store } from '../../src/store/database.js';
import { createRepositories, type AppRecord, type Repositories } from '../../src/store/repositories/index.js';

const ISSUER_BASE = 'https://tessera.test';
const CACHE_SIZE = 3;
/** The default accessTokenTtl, in seconds. */
const TTL_S = 15 * 60;

let dataDir: string;
let store: Store;
let repositories: Repositories;
const clock = new ManualClock();
let keys: SigningKeyService;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-access-tokens-'));
  store = openStore({ url: 'sqlite://:memory:', dataDir });
  await migrateToLatest(store);
  const masterKey = MasterKey.fromBase64(randomBytes(32).toString('base64'));
  repositories = createRepositories(store.db, new SettingsSealer(masterKey));
  keys = new SigningKeyService(repositories.signingKeys, masterKey, clock);
});

afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let apps = 0;
/** A real app row, so that its signing keys are real rows too. */
async function newApp(settings: object = {}): Promise<AppRecord> {
  const namespace = `ns${(apps += 1)}`;
  const owner = { id: uuidv7(clock.now()), name: namespace, created_at: clock.now() };
  await repositories.apps.insertNamespace(owner);
  const row = {
    id: uuidv7(clock.now()),
    namespace_id: owner.id,
    name: 'chat',
    settings: parseAppSettings(settings),
    created_at: clock.now(),
  };
  return repositories.apps.insertApp(row, namespace);
}

const service = () => new AccessTokenService(keys, clock, () => ISSUER_BASE, CACHE_SIZE);
const isPending = (value: unknown): boolean => value instanceof Promise;
const headerOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
const subject = (notAfter = clock.now() + 86_400_000) => ({
  userId: 'u1',
  sessionId: 's1',
  notAfter,
  kind: 'registered' as const,
});

describe('AccessTokenService (auth/tokens/access-tokens.ts)', () => {
  it("signs the app's claims and verifies them back", async () => {
    const app = await newApp();
    const tokens = service();
    const issuedAt = clock.now() / 1000;
    const { token, expiresAt } = await tokens.issue(app, subject());
    expect(expiresAt).toBe((issuedAt + TTL_S) * 1000);
    const claims = await tokens.verify(app, token);
    expect(claims).toMatchObject({
      iss: `${ISSUER_BASE}/v1/apps/${app.path}`,
      aud: app.path,
      sub: 'u1',
      sid: 's1',
      iat: issuedAt,
      exp: issuedAt + TTL_S,
      kind: 'registered',
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(headerOf(token)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
  });

  it('signs with ES256 when the app says so', async () => {
    const app = await newApp({ signingAlgorithm: 'ES256' });
    const tokens = service();
    const { token } = await tokens.issue(app, subject());
    expect(headerOf(token)).toMatchObject({ alg: 'ES256' });
    await expect(tokens.verify(app, token)).resolves.toMatchObject({ sub: 'u1' });
  });

  it("never lets a token outlive its session's absolute end", async () => {
    const app = await newApp();
    const notAfter = clock.now() + 60_500;
    const { token, expiresAt } = await service().issue(app, subject(notAfter));
    expect(expiresAt).toBe(clock.now() + 60_000);
    await expect(service().verify(app, token)).resolves.toMatchObject({ exp: (clock.now() + 60_000) / 1000 });
  });

  it('answers a token it verified before synchronously, with the same claims', async () => {
    const app = await newApp();
    const tokens = service();
    const { token } = await tokens.issue(app, subject());
    const first = tokens.verify(app, token);
    expect(isPending(first)).toBe(true);
    const claims = await first;
    const again = tokens.verify(app, token);
    expect(isPending(again)).toBe(false);
    expect(again).toBe(claims);
  });

  it('keeps at most cacheSize verified tokens, the least recently used going first', async () => {
    const app = await newApp();
    const tokens = service();
    const issued = [];
    for (let index = 0; index < CACHE_SIZE + 1; index += 1) {
      const { token } = await tokens.issue(app, { ...subject(), sessionId: `s${index}` });
      await tokens.verify(app, token);
      issued.push(token);
    }
    for (const token of issued.slice(1).reverse()) expect(isPending(tokens.verify(app, token))).toBe(false);
    const evicted = tokens.verify(app, issued[0]!);
    expect(isPending(evicted)).toBe(true);
    await expect(evicted).resolves.toMatchObject({ sid: 's0' });
  });

  it('forgets a verified token when it expires: then it answers token_expired', async () => {
    const app = await newApp();
    const tokens = service();
    const { token, expiresAt } = await tokens.issue(app, subject());
    await tokens.verify(app, token);
    clock.advance(expiresAt - clock.now() - 1);
    expect(isPending(tokens.verify(app, token))).toBe(false);
    clock.advance(1);
    const expired = tokens.verify(app, token);
    expect(isPending(expired)).toBe(true);
    await expect(expired).rejects.toMatchObject({ code: 'token_expired' });
    // A token that failed is not remembered.
    await expect(tokens.verify(app, token)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it("refuses another app's token, even one this service verified for its own app", async () => {
    const [app, other] = [await newApp(), await newApp()];
    const tokens = service();
    const { token } = await tokens.issue(app, subject());
    await tokens.verify(app, token);
    await expect(tokens.verify(other, token)).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'The access token was not signed by a key of this app.',
    });
    expect(isPending(tokens.verify(app, token))).toBe(false);
  });

  it("refuses a token signed by the app's key under a key id it does not have", async () => {
    const app = await newApp();
    const tokens = service();
    const { token } = await tokens.issue(app, subject());
    const claims = await tokens.verify(app, token);
    const signer = await keys.signer(app);
    const forged = signCompactJws({ ...signer, kid: 'not-a-key-of-this-app' }, 'at+jwt', claims);
    await expect(tokens.verify(app, forged)).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'The access token was not signed by a key of this app.',
    });
  });

  it("refuses a well-signed token whose audience, issuer, type or claims are not an access token's of this app", async () => {
    const app = await newApp();
    const tokens = service();
    const { token } = await tokens.issue(app, subject());
    const claims = await tokens.verify(app, token);
    const signer = await keys.signer(app);
    const withoutSid: Partial<typeof claims> = { ...claims };
    delete withoutSid.sid;
    const variants = [
      signCompactJws(signer, 'at+jwt', { ...claims, aud: 'other/app' }),
      signCompactJws(signer, 'at+jwt', { ...claims, iss: `${ISSUER_BASE}/v1/apps/other/app` }),
      signCompactJws(signer, 'JWT', claims),
      signCompactJws(signer, 'at+jwt', withoutSid),
      signCompactJws(signer, 'at+jwt', { ...claims, sid: 7 }),
    ];
    for (const variant of variants) {
      await expect(tokens.verify(app, variant)).rejects.toMatchObject({ code: 'invalid_token' });
      // Refused tokens are not remembered: each one is checked again.
      const again = tokens.verify(app, variant);
      expect(isPending(again)).toBe(true);
      await expect(again).rejects.toMatchObject({ code: 'invalid_token' });
    }
  });

  it('refuses a made-up or oversized token', async () => {
    const app = await newApp();
    const tokens = service();
    await expect(tokens.verify(app, 'not.a.token')).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(tokens.verify(app, 'x'.repeat(8193))).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'The access token is too long.',
    });
  });

  it('still verifies tokens of the previous key after a rotation', async () => {
    const app = await newApp();
    const tokens = service();
    const { token } = await tokens.issue(app, subject());
    await keys.rotate(app);
    await expect(service().verify(app, token)).resolves.toMatchObject({ sub: 'u1' });
    const { token: fresh } = await tokens.issue(app, subject());
    expect(headerOf(fresh).kid).not.toBe(headerOf(token).kid);
  });
});
