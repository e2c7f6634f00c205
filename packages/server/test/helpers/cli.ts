import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../../src/cli/run.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import type { Services } from '../../src/services.js';
import { closeServices, openServices } from '../../src/tessera.js';
import type { Backend } from './backends.js';

const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

export interface CliFixture {
  /** Runs `tessera <args>` in this process, as the binary would: the exit status and both outputs. */
  run(args: string[], stdin?: string): Promise<CliRun>;
  /** Runs `tessera <args> --json`, expects success, and parses the one JSON document it printed. */
  json<T = unknown>(args: string[], stdin?: string): Promise<T>;
  /** Services over the same database, opened for `act` and closed after (fresh caches each time). */
  withServices<T>(act: (services: Services) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

/** An empty database on `backend` and the CLI pointed at it through the environment. */
export async function cliFixture(backend: Backend): Promise<CliFixture> {
  const provisioned = await backend.provision();
  const env: Record<string, string> = {
    TESSERA_DATA_DIR: provisioned.dataDir,
    TESSERA_MASTER_KEY: MASTER_KEY,
    TESSERA_ARGON2_MEMORY_KIB: '1024',
    TESSERA_ARGON2_TIME_COST: '1',
    ...(provisioned.databaseUrl === undefined ? {} : { TESSERA_DATABASE_URL: provisioned.databaseUrl }),
  };
  const run = async (args: string[], stdin = ''): Promise<CliRun> => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io = {
      env,
      stdout: (text: string) => stdout.push(text),
      stderr: (text: string) => stderr.push(text),
      readStdin: () => Promise.resolve(stdin),
    };
    const status = await runCli(buildProgram(io), ['node', 'tessera', ...args], io);
    return { status, stdout: stdout.join(''), stderr: stderr.join('') };
  };
  return {
    run,
    async json<T>(args: string[], stdin?: string) {
      const result = await run([...args, '--json'], stdin);
      if (result.status !== 0) throw new Error(`tessera ${args.join(' ')} failed: ${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
    async withServices(act) {
      const services = await openServices({ config: loadConfig({ env }), logger: createLogger('silent') });
      try {
        return await act(services);
      } finally {
        await closeServices(services);
      }
    },
    dispose: provisioned.dispose,
  };
}
