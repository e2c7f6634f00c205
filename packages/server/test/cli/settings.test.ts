import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { cliFixture, type CliFixture } from '../helpers/cli.js';

const HMAC_SECRET = 'q7Vn2Lx9Rf4Tz8Kp1Wc6Hy3Bm5Dj0Gs4Ue7Ia2Ol9';
const issuer = { id: 'hs', issuer: 'https://issuer.example', audience: 'acme-chat' };
const oneLine = (code: string, message: string | RegExp): unknown =>
  expect.stringMatching(
    new RegExp(`^error ${code}: ${typeof message === 'string' ? escape(message) : message.source}\\n$`),
  );
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(backends)('tessera settings and strategy on $name', (backend) => {
  let cli: CliFixture;
  beforeEach(async () => {
    cli = await cliFixture(backend);
    await cli.run(['app', 'create', 'acme/chat']);
  });
  afterEach(() => cli.dispose());

  it('reads and sets settings by dotted path; secrets are never printed, and a list item keeps its secret', async () => {
    expect(await cli.run(['settings', 'get', 'acme/chat', 'accessTokenTtl'])).toEqual({
      status: 0,
      stdout: 'accessTokenTtl = 900\n',
      stderr: '',
    });
    expect(await cli.run(['settings', 'set', 'acme/chat', 'accessTokenTtl', '3600'])).toMatchObject({
      status: 0,
      stdout: 'accessTokenTtl = 3600\n',
    });
    // Text that is not JSON is a string: no quotes needed.
    await cli.run(['settings', 'set', 'acme/chat', 'signingAlgorithm', 'ES256']);
    const all = await cli.json<{ accessTokenTtl: number; signingAlgorithm: string; strategies: object }>([
      'settings',
      'get',
      'acme/chat',
    ]);
    expect(all).toMatchObject({
      accessTokenTtl: 3600,
      signingAlgorithm: 'ES256',
      strategies: { local: { enabled: true } },
    });
    expect((await cli.run(['settings', 'get', 'acme/chat'])).stdout).toContain('strategies.local.enabled = true\n');

    // A secret read from stdin (out of the shell's history); what is printed is masked.
    const set = await cli.run(
      ['settings', 'set', 'acme/chat', 'strategies.jwt.issuers', '-', '--json'],
      `${JSON.stringify([{ ...issuer, secrets: [{ alg: 'HS256', secret: HMAC_SECRET }] }])}\n`,
    );
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).not.toContain(HMAC_SECRET);
    expect(JSON.parse(set.stdout)).toMatchObject({
      app: 'acme/chat',
      path: 'strategies.jwt.issuers',
      value: [{ id: 'hs', secrets: [{ secret: expect.stringMatching(/^•+/) }] }],
    });
    // One field of a list item: the rest of the item, its secret included, stays.
    await cli.run(['settings', 'set', 'acme/chat', 'strategies.jwt.issuers.0.audience', 'other-audience']);
    const human = await cli.run(['settings', 'get', 'acme/chat', 'strategies.jwt']);
    expect(human.stdout).toContain('strategies.jwt.issuers.0.audience = "other-audience"\n');
    expect(human.stdout).toMatch(/strategies\.jwt\.issuers\.0\.secrets\.0\.secret = "•+/);
    expect(human.stdout).not.toContain(HMAC_SECRET);
    await cli.withServices(async (services) => {
      const { settings } = await services.apps.getApp('acme', 'chat');
      expect(settings.strategies.jwt.issuers[0]).toMatchObject({
        audience: 'other-audience',
        secrets: [{ secret: HMAC_SECRET }],
      });
    });
  });

  it('refuses a bad path, an invalid value, a mask and a bad app with one line naming them, and changes nothing', async () => {
    const refusals: [string[], number, string, string | RegExp][] = [
      [
        ['settings', 'set', 'acme/chat', 'strategies.nope.enabled', 'true'],
        1,
        'invalid_request',
        /strategies\.nope: no such setting; strategies has local, reconnect, access-token, .*/,
      ],
      [['settings', 'get', 'acme/chat', 'accessTokenTtl.x'], 1, 'invalid_request', 'accessTokenTtl.x: no such setting'],
      [['settings', 'set', 'acme/chat', 'accessTokenTtl', '5'], 1, 'invalid_request', /accessTokenTtl: .*30.*/],
      [['settings', 'set', 'acme/chat', 'accessTokenTtl', 'soon'], 1, 'invalid_request', /accessTokenTtl: .*/],
      [
        ['settings', 'set', 'acme/chat', 'strategies.oidc.providers.3', '{}'],
        1,
        'invalid_request',
        'strategies.oidc.providers.3: no item 3: the list has 0 (an index of 0 adds one)',
      ],
      [['settings', 'set', 'acme/chat', 'strategies..enabled', 'true'], 1, 'invalid_request', /.*not a dotted path/],
      [['settings', 'get', 'acme', 'accessTokenTtl'], 2, 'usage', 'expected namespace/app, got "acme"'],
      [['settings', 'get', 'acme/none'], 1, 'app_not_found', 'No such app (app: acme/none)'],
      [
        ['strategy', 'enable', 'acme/chat', 'carrier-pigeon'],
        1,
        'unknown_strategy',
        /No login strategy "carrier-pigeon"; .*/,
      ],
    ];
    for (const [args, status, code, message] of refusals) {
      expect(await cli.run(args), args.join(' ')).toEqual({ status, stdout: '', stderr: oneLine(code, message) });
    }
    const secretSet = await cli.run(
      ['settings', 'set', 'acme/chat', 'strategies.jwt.issuers', '-'],
      JSON.stringify([{ ...issuer, secrets: [{ alg: 'HS256', secret: '••••••••' }] }]),
    );
    expect(secretSet).toEqual({ status: 1, stdout: '', stderr: oneLine('invalid_request', /.*mask.*/) });

    const after = await cli.json<{ accessTokenTtl: number; strategies: { jwt: { issuers: unknown[] } } }>([
      'settings',
      'get',
      'acme/chat',
    ]);
    expect(after.accessTokenTtl).toBe(900);
    expect(after.strategies.jwt.issuers).toEqual([]);
  });

  it('turns login methods on and off, as a login then sees it', async () => {
    await cli.run(['user', 'create', 'acme/chat', '--email', 'ops@example.com'], 'a long enough password\n');
    const listed = await cli.json<{ items: { name: string; enabled: boolean }[] }>(['strategy', 'list', 'acme/chat']);
    expect(listed.items).toContainEqual({ name: 'local', enabled: true });
    expect(listed.items).toContainEqual({ name: 'anonymous', enabled: false });
    expect((await cli.run(['strategy', 'list', 'acme/chat'])).stdout).toMatch(/^STRATEGY +ENABLED +WHAT\nlocal +yes +/);

    expect(await cli.run(['strategy', 'disable', 'acme/chat', 'local'])).toMatchObject({
      status: 0,
      stdout: 'strategy local disabled for acme/chat\n',
    });
    expect(await cli.json(['strategy', 'enable', 'acme/chat', 'anonymous'])).toEqual({
      app: 'acme/chat',
      strategy: 'anonymous',
      enabled: true,
    });
    await cli.withServices(async (services) => {
      const app = await services.apps.getApp('acme', 'chat');
      const login = (body: object) => services.authenticator.login(app, body, { userAgent: null, ip: null });
      await expect(
        login({ strategy: 'local', email: 'ops@example.com', password: 'a long enough password' }),
      ).rejects.toMatchObject({ code: 'strategy_disabled' });
      await expect(login({ strategy: 'anonymous' })).resolves.toMatchObject({ user: { kind: 'anonymous' } });
    });
  });
});
