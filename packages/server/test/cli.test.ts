import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/program.js';
import { closeServices, openServices } from '../src/tessera.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { backends } from './helpers/backends.js';
import { startNode } from './helpers/node-process.js';

const execFileAsync = promisify(execFile);
const repositoryRoot = new URL('../../../', import.meta.url).pathname;
const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');

/** Runs the real `tessera` binary (from source) and returns its exit code and output. */
async function tesseraBinary(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', 'packages/server/src/bin/tessera.ts', ...args],
      {
        cwd: repositoryRoot,
        env: { ...process.env, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('tessera --help', () => {
  it('prints help for every command', async () => {
    for (const command of [
      ['start'],
      ['migrate'],
      ['app', 'create'],
      ['key', 'create'],
      ['key', 'revoke'],
      ['key', 'list'],
      ['keys', 'rotate'],
      ['user', 'create'],
      ['sessions', 'revoke-before'],
      ['admin-token', 'create'],
    ]) {
      const out: string[] = [];
      const program = buildProgram({
        env: {},
        stdout: (text) => out.push(text),
        stderr: (text) => out.push(text),
        readStdin: () => Promise.resolve(''),
      });
      await expect(
        program.parseAsync(['node', 'tessera', ...command, '--help']),
        command.join(' '),
      ).rejects.toMatchObject({ code: 'commander.helpDisplayed', exitCode: 0 });
      expect(out.join(''), command.join(' ')).toMatch(new RegExp(`^Usage: tessera ${command.join(' ')} `));
    }
  });
});

// Each case starts the real binary (through tsx), which takes seconds on a busy two-core machine.
describe('the tessera binary', { timeout: 90_000 }, () => {
  it('prints its help and exits 0', async () => {
    const result = await tesseraBinary(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: tessera/);
    expect(result.stdout).toContain('start');
  });

  // issue 12: `npm run tessera -- --help` failed with MODULE_NOT_FOUND until something built the server.
  // It builds the packages from scratch: a minute or more on a busy machine.
  it('runs through `npm run tessera` right after npm install, before any build', { timeout: 300_000 }, async () => {
    const checkout = mkdtempSync(join(tmpdir(), 'tessera-checkout-'));
    try {
      const built = /(^|\/)(dist|node_modules|test|bench)$|\.tsbuildinfo$/;
      for (const entry of [
        'package.json',
        'tsconfig.base.json',
        'packages/protocol',
        'packages/server',
        'packages/client',
        'packages/verifier',
      ]) {
        cpSync(join(repositoryRoot, entry), join(checkout, entry), {
          recursive: true,
          filter: (source) => !built.test(source),
        });
      }
      symlinkSync(join(repositoryRoot, 'node_modules'), join(checkout, 'node_modules'));
      const { stdout } = await execFileAsync('npm', ['run', '--silent', 'tessera', '--', '--help'], { cwd: checkout });
      expect(stdout).toMatch(/^Usage: tessera/);
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });

  it('stops on bad configuration with one clear line and a non-zero exit', async () => {
    const badPort = await tesseraBinary(['start'], { TESSERA_PORT: 'eighty' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error invalid_config: port \(from TESSERA_PORT\): must be integer/),
    ]);
    const badUrl = await tesseraBinary(['migrate', '--database-url', 'mysql://nope']);
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error invalid_config: databaseUrl: must match pattern/),
    ]);
    const badProxies = await tesseraBinary(['migrate'], { TESSERA_TRUSTED_PROXIES: '10.0.0.0/8, proxy.internal' });
    expect(badProxies.code).toBe(1);
    expect(badProxies.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^error invalid_config: trustedProxies \(from TESSERA_TRUSTED_PROXIES\): .*proxy\.internal.*; list addresses or ranges/,
      ),
    ]);
    const noMasterKey = await tesseraBinary(['migrate'], { TESSERA_MODE: 'production', TESSERA_MASTER_KEY: '' });
    expect(noMasterKey.code).toBe(1);
    expect(noMasterKey.stderr).toMatch(
      /^error invalid_config: masterKey \(TESSERA_MASTER_KEY\): required in production/,
    );
  });
});

describe.each(backends)('tessera commands on $name', (backend) => {
  let env: Record<string, string>;
  let dispose: () => Promise<void>;
  let out: string[];
  let err: string[];

  beforeEach(async () => {
    const provisioned = await backend.provision();
    dispose = provisioned.dispose;
    env = {
      TESSERA_DATA_DIR: provisioned.dataDir,
      TESSERA_MASTER_KEY: MASTER_KEY,
      TESSERA_ARGON2_MEMORY_KIB: '1024',
      TESSERA_ARGON2_TIME_COST: '1',
    };
    if (provisioned.databaseUrl !== undefined) env.TESSERA_DATABASE_URL = provisioned.databaseUrl;
    out = [];
    err = [];
  });
  afterEach(() => dispose());

  const tessera = async (args: string[], stdin = '') => {
    const program = buildProgram({
      env,
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      readStdin: () => Promise.resolve(stdin),
    });
    await program.parseAsync(['node', 'tessera', ...args]);
    return out.join('');
  };

  it('migrates, creates an app with keys, manages keys, rotates signing keys and creates a user', async () => {
    expect(await tessera(['migrate'])).toContain('database is up to date');
    out = [];
    const created = await tessera(['app', 'create', 'acme/chat']);
    expect(created).toMatch(/publishable key: pk_\S+\nsecret key: +sk_\S+/);

    out = [];
    const secretKey = (await tessera(['key', 'create', 'acme/chat', '--kind', 'secret', '--label', 'ci'])).trim();
    expect(secretKey).toMatch(/^sk_[\w-]{16}\.[\w-]{43}$/);
    out = [];
    const listed = await tessera(['key', 'list', 'acme/chat']);
    expect(listed.trim().split('\n')).toHaveLength(3);
    expect(listed).not.toContain(secretKey.split('.')[1]);
    const keyId = secretKey.slice(3, 19);
    out = [];
    expect(await tessera(['key', 'revoke', 'acme/chat', keyId])).toContain(`key ${keyId} revoked`);
    out = [];
    expect(await tessera(['key', 'list', 'acme/chat'])).toMatch(new RegExp(`${keyId}\\tsecret\\trevoked\\tci`));

    out = [];
    expect(await tessera(['keys', 'rotate', 'acme/chat'])).toMatch(/^new signing key \S+/);

    out = [];
    const userId = (
      await tessera(
        ['user', 'create', 'acme/chat', '--email', 'ops@example.com', '--full-name', 'Ops'],
        'a long enough password\n',
      )
    ).trim();
    const services = await openServices({ config: loadConfig({ env }), logger: createLogger('silent') });
    try {
      const app = await services.apps.getApp('acme', 'chat');
      const user = await services.users.get(app, userId);
      expect(user).toMatchObject({ email: 'ops@example.com', fullName: 'Ops' });
      expect((await services.passwords.verify(user.passwordHash, 'a long enough password')).valid).toBe(true);
      expect((await services.signingKeys.jwks(app)).keys).toHaveLength(2);
    } finally {
      await services.store.close();
    }
  });

  it('refuses a weak password read from stdin with its code', async () => {
    await tessera(['app', 'create', 'acme/chat']);
    await expect(
      tessera(['user', 'create', 'acme/chat', '--email', 'weak@example.com'], 'short\n'),
    ).rejects.toMatchObject({ code: 'weak_password' });
  });

  it('kill switch: ends the sessions of the app started before now, keeps the moment, and refuses a future or unreadable one (issue 12)', async () => {
    await tessera(['app', 'create', 'acme/chat']);
    await tessera(['user', 'create', 'acme/chat', '--email', 'breach@example.com'], 'a long enough password\n');
    const services = await openServices({ config: loadConfig({ env }), logger: createLogger('silent') });
    try {
      const app = await services.apps.getApp('acme', 'chat');
      const login = await services.authenticator.login(
        app,
        { strategy: 'local', email: 'breach@example.com', password: 'a long enough password' },
        { userAgent: null, ip: null },
      );
      out = [];
      expect(await tessera(['sessions', 'revoke-before', 'acme/chat'])).toMatch(
        /^1 sessions ended; sessions of acme\/chat started before \S+ are refused from now on\n$/,
      );
      // Without Redis nobody else hears of it at once: the CLI says so.
      expect(err.join('')).toContain('without Redis');
      const reread = await services.apps.listApps('acme');
      expect(reread[0]?.sessionsRevokedBefore).toEqual(expect.any(Number));
      await expect(services.sessions.reread(reread[0]!, login.session.id)).rejects.toMatchObject({
        code: 'session_revoked',
      });

      await expect(
        tessera(['sessions', 'revoke-before', 'acme/chat', '--before', new Date(Date.now() + 3_600_000).toISOString()]),
      ).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(tessera(['sessions', 'revoke-before', 'acme/chat', '--before', 'last tuesday'])).rejects.toThrow(
        '--before: "last tuesday" is not an ISO 8601 date-time',
      );
    } finally {
      await closeServices(services);
    }
  });

  it('names a missing app', async () => {
    await expect(tessera(['keys', 'rotate', 'acme/none'])).rejects.toMatchObject({ code: 'app_not_found' });
    await expect(tessera(['keys', 'rotate', 'no-slash'])).rejects.toThrow('expected namespace/app, got "no-slash"');
  });
});

describe('tessera start with a mistyped variable', () => {
  it('warns of a TESSERA_* variable that names no setting, by name, and starts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const node = await startNode({
      databaseUrl: `sqlite://${join(dataDir, 'tessera.db')}`,
      dataDir,
      env: { TESSERA_REDIS_UR: 'redis://127.0.0.1:6379' },
    });
    try {
      await node.waitForOutput('TESSERA_REDIS_UR is not a Tessera setting and is ignored');
      expect(node.output()).not.toContain('TESSERA_MASTER_KEY is not');
      expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
    } finally {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the first start', { timeout: 90_000 }, () => {
  let dataDir: string;
  let databaseUrl: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-first-start-'));
    databaseUrl = `sqlite://${join(dataDir, 'tessera.db')}`;
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const listNamespaces = async (env: Record<string, string>) => {
    const services = await openServices({
      config: loadConfig({
        env: { TESSERA_DATA_DIR: dataDir, TESSERA_DATABASE_URL: databaseUrl, TESSERA_MASTER_KEY: MASTER_KEY, ...env },
      }),
      logger: createLogger('silent'),
    });
    try {
      return (await services.apps.listNamespaces()).map((namespace) => namespace.name);
    } finally {
      await closeServices(services);
    }
  };

  // issue 12: demo/chat was created before the port was bound, and its "shown once" keys were lost with the failed start.
  it('creates demo/chat only once it listens: a start on a port in use creates nothing, and the next start prints the keys', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      await expect(startNode({ databaseUrl, dataDir, env: { TESSERA_PORT: port } })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    expect(await listNamespaces({})).toEqual([]);

    const node = await startNode({ databaseUrl, dataDir });
    try {
      expect(node.firstRun).toMatchObject({
        publishableKey: expect.stringMatching(/^pk_/),
        secretKey: expect.stringMatching(/^sk_/),
        adminToken: expect.stringMatching(/^adm_/),
      });
      expect(node.output()).toContain('npm run tessera -- key create demo/chat --kind publishable');
      const me = await fetch(`${node.url}/v1/apps/demo/chat/me`, {
        headers: { 'x-tessera-key': node.firstRun!.publishableKey },
      });
      expect(me.status).toBe(401);
    } finally {
      await node.stop();
    }
  });

  // issue 12: in production the first start printed the demo app's secret key and an admin token to stdout, i.e. to the log collector.
  it('in production creates no app and prints no secret, and says how to make one with the CLI', async () => {
    const node = await startNode({ databaseUrl, dataDir, env: { TESSERA_MODE: 'production' } });
    try {
      expect(node.firstRun).toBeUndefined();
      expect(node.output()).not.toMatch(/\b(pk|sk|adm)_[\w-]+\.|admin token \(admin API\)/);
      expect(node.output()).toContain(
        'no app yet: production mode creates none. Create one with `tessera app create <namespace/app>`',
      );
      expect((await fetch(`${node.url}/v1/apps/demo/chat/.well-known/jwks.json`)).status).toBe(404);
    } finally {
      await node.stop();
    }
    expect(await listNamespaces({ TESSERA_MODE: 'production' })).toEqual([]);

    const out: string[] = [];
    const cli = (args: string[]) =>
      buildProgram({
        env: {
          TESSERA_MODE: 'production',
          TESSERA_DATA_DIR: dataDir,
          TESSERA_DATABASE_URL: databaseUrl,
          TESSERA_MASTER_KEY: MASTER_KEY,
        },
        stdout: (text) => out.push(text),
        stderr: () => {},
        readStdin: () => Promise.resolve(''),
      }).parseAsync(['node', 'tessera', ...args]);
    await cli(['apps', 'create', 'acme/chat']);
    expect(out.join('')).toMatch(/publishable key: pk_\S+\nsecret key: +sk_\S+/);
    out.length = 0;
    await cli(['admin-token', 'create']);
    expect(out.join('').trim()).toMatch(/^adm_\S+$/);

    const restarted = await startNode({ databaseUrl, dataDir, env: { TESSERA_MODE: 'production' } });
    try {
      expect(restarted.output()).not.toContain('no app yet');
      expect((await fetch(`${restarted.url}/v1/apps/acme/chat/.well-known/jwks.json`)).status).toBe(200);
    } finally {
      await restarted.stop();
    }
  });
});
