import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI: a node process starts in a fraction of the time tsx needs. `npm test` builds it (typecheck); global-setup.ts too. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/bin/tessera.js', import.meta.url));

/** The master key every node of a test cluster shares; never used outside tests. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 9).toString('base64');

export interface FirstRunCredentials {
  publishableKey: string;
  secretKey: string;
  adminToken: string;
}

/** One `tessera start` in a process of its own, on 127.0.0.1 and a free port. */
export interface NodeProcess {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Printed by the node that created demo/chat; undefined on the others. */
  readonly firstRun: FirstRunCredentials | undefined;
  /** Everything the process wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the output (from offset `since` on) contains `text` (pino lines, messages); rejects after `timeoutMs`. */
  waitForOutput(text: string | RegExp, timeoutMs?: number, since?: number): Promise<void>;
  /** SIGTERM, waiting for the exit; SIGKILL if it takes longer than `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface NodeOptions {
  databaseUrl: string;
  redisUrl?: string;
  dataDir: string;
  /** More TESSERA_* variables. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /**
   * What happens to the node's standard output once it listens: read to the end (the default),
   * left unread (the pipe fills up), or closed (the node's writes fail with EPIPE). Only stderr
   * reaches `output()` after that.
   */
  stdoutReader?: 'reads' | 'stops reading' | 'closes';
  /** A `tessera` executable to run instead of this checkout's build, e.g. the bin of an installed package. */
  executable?: string;
}

/** Small argon2 parameters keep the suite fast, as for in-process test servers. */
const FAST_HASHING = {
  TESSERA_ARGON2_MEMORY_KIB: '1024',
  TESSERA_ARGON2_TIME_COST: '1',
  TESSERA_HASH_CONCURRENCY: '1',
};

/** Starts a node and resolves once it listens. Starting the first node of a database creates demo/chat. */
export async function startNode(options: NodeOptions): Promise<NodeProcess> {
  if (options.executable === undefined && !existsSync(CLI_PATH))
    throw new Error(`${CLI_PATH} is missing: build the server first (npx tsc -b packages/server)`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TESSERA_HOST: '127.0.0.1',
    TESSERA_PORT: '0',
    TESSERA_MASTER_KEY: TEST_MASTER_KEY,
    TESSERA_DATABASE_URL: options.databaseUrl,
    TESSERA_DATA_DIR: options.dataDir,
    TESSERA_LOG_LEVEL: 'info',
    ...FAST_HASHING,
    ...(options.redisUrl === undefined ? {} : { TESSERA_REDIS_URL: options.redisUrl }),
    ...options.env,
  };
  const [command, args] =
    options.executable === undefined ? [process.execPath, [CLI_PATH, 'start']] : [options.executable, ['start']];
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const waiter of waiters) waiter();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const waiter of waiters) waiter();
  });

  const waitForOutput = (text: string | RegExp, timeoutMs = 30_000, since = 0) =>
    new Promise<void>((resolve, reject) => {
      const matches = () => (typeof text === 'string' ? output.includes(text, since) : text.test(output.slice(since)));
      const check = () => {
        if (matches()) finish(resolve);
        else if (hasExited)
          finish(() => reject(new Error(`the node exited before printing ${String(text)}:\n${output}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${String(text)} after ${timeoutMs} ms:\n${output}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  await waitForOutput(/listening on (http:\/\/\S+)/, options.startTimeoutMs ?? 60_000);
  const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
  if (options.stdoutReader === 'stops reading') {
    child.stdout.off('data', append);
    child.stdout.pause();
  } else if (options.stdoutReader === 'closes') {
    child.stdout.destroy();
  }
  const credential = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(output)?.[1];
  const publishableKey = credential('publishable key \\(clients\\)');
  const firstRun =
    publishableKey === undefined
      ? undefined
      : {
          publishableKey,
          secretKey: credential('secret key \\(your backend only\\)')!,
          adminToken: credential('admin token \\(admin API\\)')!,
        };

  return {
    url,
    pid: child.pid!,
    child,
    firstRun,
    output: () => output,
    exited,
    waitForOutput,
    async stop(timeoutMs = 10_000) {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
