import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/node-process.js';

const execFileAsync = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const PACKAGES = ['protocol', 'server', 'client', 'verifier'] as const;

/** Packing builds dist (prepack) and installing copies a few thousand files: minutes on a busy two-core machine. */
const STEP_TIMEOUT_MS = 240_000;

/**
 * npm run by the test sets npm_* variables (npm_config_local_prefix, npm_package_json, …) that
 * would point a child npm at this repository; the temporary project must look like anyone's.
 */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

/** Runs a command to its end; a failure carries what it printed (tsc, for one, reports on stdout). */
async function run(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const options = { cwd, env: cleanEnvironment(), timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 };
    return (await execFileAsync(command, args, options)).stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`, { cause: error });
  }
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

/**
 * The client README's quick start as a user saves it next to their package.json: the imports of
 * '@tessera/client' and 'ws' stay as written and resolve in the project's node_modules; only the
 * server's address and key change (as packages/client/test/readme.test.ts does).
 */
async function readmeQuickStart(url: string, key: string): Promise<string> {
  const readme = readFileSync(join(repositoryRoot, 'packages/client/README.md'), 'utf8');
  const section = /<!-- readme-example: start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-example: end -->/.exec(readme);
  if (section === null) throw new Error('packages/client/README.md has no example section');
  const source = section[1]!
    .replaceAll("'http://127.0.0.1:3000'", JSON.stringify(url))
    .replaceAll("'pk_…'", JSON.stringify(key));
  expect(source).toMatch(/^import \{[^}]+\} from '@tessera\/client';$/m);
  return (await transform(source, { loader: 'ts', format: 'esm' })).code;
}

/**
 * Installs the tarballs from the npm cache this checkout's own install filled: `--offline` first;
 * `--prefer-offline` when a version the cache's metadata names newest was never downloaded.
 *
 * `--ignore-scripts`: better-sqlite3's install script downloads a prebuilt binary from GitHub or,
 * failing that, compiles SQLite (minutes of CPU). This checkout's install already did one of
 * those for the same version (pinned by the project's `overrides`), so its binary is copied in,
 * as prebuild-install's cache would. @node-rs/argon2 and bcrypt need nothing: their binaries
 * are npm packages of their own (optional dependencies per platform), taken from the cache.
 */
async function installTarballs(project: string, tarballs: string[]): Promise<void> {
  const cache = (await run('npm', ['config', 'get', 'cache'], project)).trim();
  const install = ['install', ...tarballs, '--no-audit', '--no-fund', '--ignore-scripts', '--cache', cache];
  try {
    await run('npm', [...install, '--offline'], project);
  } catch {
    await run('npm', [...install, '--prefer-offline'], project);
  }
  const binary = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  mkdirSync(dirname(join(project, binary)), { recursive: true });
  copyFileSync(join(repositoryRoot, binary), join(project, binary));
}

// issue 14: the packages could only run inside this repository; now each installs from its tarball.
describe(
  '@tessera/protocol, @tessera/server, @tessera/client and @tessera/verifier installed from their tarballs',
  { timeout: STEP_TIMEOUT_MS },
  () => {
    let packDir: string;
    let project: string;
    let dataDir: string;
    let node: NodeProcess | undefined;
    const installed = (path: string) => join(project, 'node_modules', path);

    beforeAll(async () => {
      packDir = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
      project = mkdtempSync(join(tmpdir(), 'tessera-project-'));
      dataDir = mkdtempSync(join(tmpdir(), 'tessera-installed-'));
      // One command: npm runs each package's prepack, which builds its dist.
      const workspaces = PACKAGES.flatMap((name) => ['--workspace', `packages/${name}`]);
      await run('npm', ['pack', ...workspaces, '--pack-destination', packDir, '--loglevel', 'error'], repositoryRoot);
      const tarballs = readdirSync(packDir)
        .filter((file) => file.endsWith('.tgz'))
        .map((file) => join(packDir, file));
      expect(tarballs).toHaveLength(PACKAGES.length);

      // An empty project, as `npm init` makes one; ws is the WebSocket the client README asks Node.js 20 for.
      const clientManifest = readJson<{ devDependencies: { ws: string } }>(
        join(repositoryRoot, 'packages/client/package.json'),
      );
      const sqlite = readJson<{ version: string }>(join(repositoryRoot, 'node_modules/better-sqlite3/package.json'));
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({
          name: 'tessera-install-check',
          version: '1.0.0',
          private: true,
          type: 'module',
          dependencies: { ws: clientManifest.devDependencies.ws },
          overrides: { 'better-sqlite3': sqlite.version },
        }),
      );
      await installTarballs(project, tarballs);
    }, 2 * STEP_TIMEOUT_MS);

    afterAll(async () => {
      await node?.stop();
      for (const dir of [packDir, project, dataDir])
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('installs built code, declarations and assets, and no tests', () => {
      for (const name of PACKAGES) {
        expect(existsSync(installed(`@tessera/${name}/dist/index.js`)), name).toBe(true);
        expect(existsSync(installed(`@tessera/${name}/dist/index.d.ts`)), name).toBe(true);
        expect(readdirSync(installed(`@tessera/${name}`)), name).not.toContain('test');
      }
      expect(existsSync(installed('@tessera/server/assets/common-passwords.txt'))).toBe(true);
      expect(existsSync(installed('@tessera/client/dist/browser/tessera-client.min.js'))).toBe(true);
      // The server's dependency on the protocol is the installed tarball, not a second copy from a registry.
      expect(existsSync(installed('@tessera/server/node_modules/@tessera/protocol'))).toBe(false);
    });

    it("loads each package's entry point with plain Node.js", async () => {
      const script = [
        "import { ERROR_CODES } from '@tessera/protocol';",
        "import { createTessera, loadConfig, VERSION } from '@tessera/server';",
        "import { createClient } from '@tessera/client';",
        "import { createVerifier } from '@tessera/verifier';",
        'console.log(JSON.stringify([typeof ERROR_CODES.invalid_credentials, typeof createTessera, typeof loadConfig, VERSION, typeof createClient, typeof createVerifier]));',
      ].join('\n');
      const stdout = await run(process.execPath, ['--input-type=module', '--eval', script], project);
      const { version } = readJson<{ version: string }>(join(repositoryRoot, 'packages/server/package.json'));
      expect(JSON.parse(stdout)).toEqual(['object', 'function', 'function', version, 'function', 'function']);
    });

    it('gives a TypeScript project the declarations of each package', async () => {
      // `ErrorCode` would be `any` if the declarations did not resolve; a wrong code then type-checks.
      writeFileSync(
        join(project, 'consumer.ts'),
        [
          "import type { ErrorCode } from '@tessera/protocol';",
          "import { createTessera, type Tessera } from '@tessera/server';",
          "import { createClient, type TesseraClient } from '@tessera/client';",
          "import { createVerifier, type Principal } from '@tessera/verifier';",
          "export const code: ErrorCode = 'invalid_credentials';",
          '// @ts-expect-error not an error code',
          "export const wrong: ErrorCode = 'no_such_code';",
          'export const start: (typeof createTessera)[] = [createTessera];',
          'export type Parts = [Tessera, TesseraClient, typeof createClient, typeof createVerifier, Principal];',
        ].join('\n'),
      );
      const tsc = join(repositoryRoot, 'node_modules/typescript/bin/tsc');
      const options = ['--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2023', '--skipLibCheck'];
      await run(process.execPath, [tsc, ...options, 'consumer.ts'], project);
    });

    it("runs the client README's quick start against `tessera start` of the installed server", async () => {
      node = await startNode({
        executable: installed('.bin/tessera'),
        databaseUrl: `sqlite://${join(dataDir, 'tessera.db')}`,
        dataDir,
      });
      expect(node.firstRun).toBeDefined();
      writeFileSync(join(project, 'quick-start.mjs'), await readmeQuickStart(node.url, node.firstRun!.publishableKey));
      const stdout = await run(process.execPath, ['quick-start.mjs'], project);
      expect(stdout.trim().split('\n')).toEqual([
        'Hello, Grace Hopper',
        '1 user online',
        'refused: invalid_credentials',
        'realtime closed: logged_out',
      ]);
    });
  },
);
