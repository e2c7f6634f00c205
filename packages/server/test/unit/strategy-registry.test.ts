import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_RESUMING_STRATEGIES } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapFirstRun } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import type { Services } from '../../src/services.js';
import type { AppRecord } from '../../src/store/repositories/index.js';
import { closeServices, openServices } from '../../src/tessera.js';
import { TEST_MASTER_KEY } from '../helpers/server.js';

/** A JWT with these claims and no valid signature: peeking reads claims, it never verifies. */
function unsignedJwt(claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'at+jwt' })}.${part(claims)}.${Buffer.alloc(64).toString('base64url')}`;
}

describe('StrategyRegistry, as the server wires it', () => {
  let dataDir: string;
  let services: Services;
  let app: AppRecord;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-registry-'));
    const config = loadConfig({ overrides: { dataDir, masterKey: TEST_MASTER_KEY, logLevel: 'silent' } });
    services = await openServices({ config, logger: createLogger('silent') });
    await bootstrapFirstRun(services);
    app = await services.apps.getApp('demo', 'chat');
  });
  afterAll(async () => {
    await closeServices(services);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes sessions with exactly the strategies the protocol tells clients to rotate for (issue 13)', () => {
    expect([...services.strategies.resuming].sort()).toEqual([...SESSION_RESUMING_STRATEGIES].sort());
  });

  it("tells whose session a login body would resume, Feathers' jwt with an accessToken too, and never throws for a bad body (issue 13)", async () => {
    const peek = (body: unknown) =>
      services.strategies.peekResumedUser(body, { app, client: { ip: '192.0.2.1', userAgent: null } });
    const accessToken = unsignedJwt({ sub: 'user-1', sid: 'session-1' });
    expect(await peek({ strategy: 'access-token', accessToken })).toBe('user-1');
    expect(await peek({ strategy: 'jwt', accessToken })).toBe('user-1');
    // An external issuer's token starts a session; so does a password.
    expect(await peek({ strategy: 'jwt', token: accessToken })).toBeUndefined();
    expect(await peek({ strategy: 'local', email: 'someone@example.com', password: 'a password' })).toBeUndefined();
    // A reconnect token that names no session, and bodies the login will refuse.
    expect(
      await peek({ strategy: 'reconnect', token: 'rt_AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
    ).toBeUndefined();
    expect(await peek({ strategy: 'reconnect', token: '' })).toBeUndefined();
    expect(await peek({ strategy: 'access-token', accessToken: 'not-a-jwt' })).toBeUndefined();
    expect(await peek({ strategy: 'access-token', accessToken, extra: true })).toBeUndefined();
    expect(await peek({ strategy: 'carrier-pigeon' })).toBeUndefined();
    expect(await peek({ strategy: 42 })).toBeUndefined();
    expect(await peek(null)).toBeUndefined();
  });
});
