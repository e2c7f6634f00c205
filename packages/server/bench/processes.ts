import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { serverCommand } from './pinning.js';

export interface RunningServer {
  url: string;
  output: string;
  pid: number;
  stop(): Promise<void>;
}

const serverRoot = new URL('../', import.meta.url).pathname;

/** Starts the bare Fastify baseline, on the server core when the bench pins (./pinning.ts). */
export async function startBareFastify(): Promise<RunningServer> {
  const { command, args } = serverCommand([join(serverRoot, 'bench/bare-fastify.mjs')]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const output = await waitFor(child, /listening on (http:\/\/\S+)/);
  return { url: /listening on (http:\/\/\S+)/.exec(output)![1]!, output, pid: child.pid!, stop: () => stop(child) };
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
