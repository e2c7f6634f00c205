import { spawn, type ChildProcess } from 'node:child_process';
import { serverCommand, serverEnv } from './pinning.js';

/** What the benchmark asks of a server process (realtime-server.mjs, raw-ws-server.mjs). */
export type BenchRequest =
  | { type: 'sessions'; count: number }
  | { type: 'reconnectTokens'; count: number }
  | { type: 'cpu' }
  | { type: 'memory' }
  | { type: 'heapSnapshot'; path: string };

export interface BenchMemory {
  rss: number;
  heapUsed: number;
  external: number;
}

export type BenchReply =
  | { type: 'ready'; url: string; publishableKey?: string }
  | { type: 'sessions'; tokens: string[] }
  | { type: 'reconnectTokens'; tokens: string[]; publishableKey: string }
  | { type: 'cpu'; micros: number }
  | { type: 'memory'; memory: BenchMemory; connections: number }
  | { type: 'heapSnapshot'; path: string };

/** A server script in a process of its own with an IPC channel; requests are answered in order. */
export class BenchProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    /** The demo app's publishable key, from a Tessera server process. */
    readonly publishableKey: string | undefined,
  ) {}

  /** Starts `script` in a process of its own, on the server core when the bench pins (./pinning.ts). */
  static async start(script: string): Promise<BenchProcess> {
    // Spawned rather than forked, so that `taskset` can come first; the IPC channel passes through its exec.
    const { command, args } = serverCommand([
      // Plain JS on the built server, as in production (a TypeScript loader would add to every function).
      '--expose-gc',
      ...(process.env.BENCH_SERVER_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []),
      new URL(script, import.meta.url).pathname,
    ]);
    const child = spawn(command, args, {
      env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...serverEnv() },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await next(child, 'ready', 60_000);
    return new BenchProcess(child, ready.url, ready.publishableKey);
  }

  /** The server process's id (taskset's, which became node's by exec). */
  get pid(): number {
    return this.child.pid!;
  }

  async sessions(count: number): Promise<string[]> {
    this.child.send({ type: 'sessions', count } satisfies BenchRequest);
    return (await next(this.child, 'sessions', 600_000)).tokens;
  }

  /** Reconnect tokens of `count` new sessions, and the app's publishable key a socket login presents. */
  async reconnectTokens(count: number): Promise<{ tokens: string[]; publishableKey: string }> {
    this.child.send({ type: 'reconnectTokens', count } satisfies BenchRequest);
    return next(this.child, 'reconnectTokens', 600_000);
  }

  /** The server process's CPU time so far (user + system), in microseconds. */
  async cpuMicros(): Promise<number> {
    this.child.send({ type: 'cpu' } satisfies BenchRequest);
    return (await next(this.child, 'cpu', 60_000)).micros;
  }

  async memory(): Promise<{ memory: BenchMemory; connections: number }> {
    this.child.send({ type: 'memory' } satisfies BenchRequest);
    return next(this.child, 'memory', 60_000);
  }

  /** Writes a heap snapshot of the server process to `path` (after full collections). */
  async heapSnapshot(path: string): Promise<string> {
    this.child.send({ type: 'heapSnapshot', path } satisfies BenchRequest);
    return (await next(this.child, 'heapSnapshot', 600_000)).path;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

function next<T extends BenchReply['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<BenchReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} answer from the bench server`)), timeoutMs);
    const onMessage = (message: BenchReply) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<BenchReply, { type: T }>);
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited with ${code}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
