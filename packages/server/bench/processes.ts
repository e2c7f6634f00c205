import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningServer {
  url: string;
  output: string;
  stop(): Promise<void>;
}

const serverRoot = new URL('../', import.meta.url).pathname;

/** Starts the built `tessera start` on a free port of 127.0.0.1, in a fresh data folder. */
export async function startTessera(
  env: Record<string, string> = {},
): Promise<RunningServer & { publishableKey: string; secretKey: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const child = spawn(
    process.execPath,
    [join(serverRoot, 'dist/bin/tessera.js'), 'start', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir],
    {
      env: {
        ...process.env,
        TESSERA_LOG_LEVEL: 'warn',
        TESSERA_MASTER_KEY: Buffer.alloc(32, 3).toString('base64'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  // "listening on" is the last line of a start, after the first start's credentials.
  const output = await waitFor(child, /listening on (http:\/\/\S+)/);
  const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
  return {
    url,
    output,
    publishableKey: /publishable key \(clients\):\s+(pk_\S+)/.exec(output)![1]!,
    secretKey: /secret key \(your backend only\):\s+(sk_\S+)/.exec(output)![1]!,
    stop: async () => {
      await stop(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts the bare Fastify baseline. */
export async function startBareFastify(): Promise<RunningServer> {
  const child = spawn(process.execPath, [join(serverRoot, 'bench/bare-fastify.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const output = await waitFor(child, /listening on (http:\/\/\S+)/);
  return { url: /listening on (http:\/\/\S+)/.exec(output)![1]!, output, stop: () => stop(child) };
}

function waitFor(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${output}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
