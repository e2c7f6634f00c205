import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', 'packages/server/src/bin/tessera.ts', ...args], {
      cwd: repositoryRoot,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('tessera --help', () => {
  it('prints help for every command', async () => {
    for (const command of [['start'], ['migrate'], ['app', 'create'], ['key', 'create'], ['key', 'revoke'], ['key', 'list'], ['keys', 'rotate'], ['user', 'create'], ['sessions', 'revoke-before'], ['admin-token', 'create']]) {
      const out: string[] = [];
      const program = buildProgram({ env: {}, stdout: (text) => out.push(text), stderr: (text) => out.push(text), readStdin: () => Promise.resolve('') });
      await expect(program.parseAsync(['node', 'tessera', ...command, '--help']), command.join(' ')).rejects.toMatchObject({ code: 'commander.helpDisplayed', exitCode: 0 });
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

  it('stops on bad configuration with one clear line and a non-zero exit', async () => {
    const badPort = await tesseraBinary(['start'], { TESSERA_PORT: 'eighty' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tessera: port \(from TESSERA_PORT\): must be integer/)]);
    const badUrl = await tesseraBinary(['migrate', '--database-url', 'mysql://nope']);
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tessera: databaseUrl: must match pattern/)]);
    const badProxies = await tesseraBinary(['migrate'], { TESSERA_TRUSTED_PROXIES: '10.0.0.0/8, proxy.internal' });
    expect(badProxies.code).toBe(1);
    expect(badProxies.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tessera: trustedProxies \(from TESSERA_TRUSTED_PROXIES\): .*proxy\.internal.*; list addresses or ranges/)]);
    const noMasterKey = await tesseraBinary(['migrate'], { TESSERA_MODE: 'production', TESSERA_MASTER_KEY: '' });
    expect(noMasterKey.code).toBe(1);
    expect(noMasterKey.stderr).toMatch(/^tessera: masterKey \(TESSERA_MASTER_KEY\): required in production/);
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
    env = { TESSERA_DATA_DIR: provisioned.dataDir, TESSERA_MASTER_KEY: MASTER_KEY, TESSERA_ARGON2_MEMORY_KIB: '1024', TESSERA_ARGON2_TIME_COST: '1' };
    if (provisioned.databaseUrl !== undefined) env.TESSERA_DATABASE_URL = provisioned.databaseUrl;
    out = [];
    err = [];
  });
  afterEach(() => dispose());

  const tessera = async (args: string[], stdin = '') => {
    const program = buildProgram({ env, stdout: (text) => out.push(text), stderr: (text) => err.push(text), readStdin: () => Promise.resolve(stdin) });
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
    const userId = (await tessera(['user', 'create', 'acme/chat', '--email', 'ops@example.com', '--full-name', 'Ops'], 'a long enough password\n')).trim();
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
    await expect(tessera(['user', 'create', 'acme/chat', '--email', 'weak@example.com'], 'short\n')).rejects.toMatchObject({ code: 'weak_password' });
  });

  it('kill switch: ends the sessions of the app started before now, keeps the moment, and refuses a future or unreadable one (issue 12)', async () => {
    await tessera(['app', 'create', 'acme/chat']);
    await tessera(['user', 'create', 'acme/chat', '--email', 'breach@example.com'], 'a long enough password\n');
    const services = await openServices({ config: loadConfig({ env }), logger: createLogger('silent') });
    try {
      const app = await services.apps.getApp('acme', 'chat');
      const login = await services.authenticator.login(app, { strategy: 'local', email: 'breach@example.com', password: 'a long enough password' }, { userAgent: null, ip: null });
      out = [];
      expect(await tessera(['sessions', 'revoke-before', 'acme/chat'])).toMatch(/^1 sessions ended; sessions of acme\/chat started before \S+ are refused from now on\n$/);
      // Without Redis nobody else hears of it at once: the CLI says so.
      expect(err.join('')).toContain('without Redis');
      const reread = await services.apps.listApps('acme');
      expect(reread[0]?.sessionsRevokedBefore).toEqual(expect.any(Number));
      await expect(services.sessions.current(reread[0]!, login.session.id)).rejects.toMatchObject({ code: 'session_revoked' });

      await expect(tessera(['sessions', 'revoke-before', 'acme/chat', '--before', new Date(Date.now() + 3_600_000).toISOString()])).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(tessera(['sessions', 'revoke-before', 'acme/chat', '--before', 'last tuesday'])).rejects.toThrow('--before: "last tuesday" is not an ISO 8601 date-time');
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
    const node = await startNode({ databaseUrl: `sqlite://${join(dataDir, 'tessera.db')}`, dataDir, env: { TESSERA_REDIS_UR: 'redis://127.0.0.1:6379' } });
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
