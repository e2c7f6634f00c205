/**
 * `npm run bench -- regime` (issue 16, item 2): is GET /me's speed a property of the process?
 * Starts BENCH_REGIME_PROCESSES (default 6) Tessera server processes one after another (pinned as
 * the bench pins), each with `--trace-gc-nvp` added to BENCH_SERVER_NODE_OPTIONS; each makes
 * BENCH_ME_SESSIONS sessions, serves the warm-up mix, then BENCH_REGIME_LOADS (default 3) GET /me
 * loads of BENCH_SECONDS over the rotating tokens. For each process and load it prints req/s and
 * (after the server idled BENCH_REGIME_IDLE_SECONDS, default 10, as it does while a baseline is measured)
 * the garbage collector's work during the load, read from the process's own GC trace: scavenges
 * and mark-compacts per 10,000 requests, bytes promoted and copied per request, the mean
 * scavenge pause and survival ratio, and the young generation's size.
 * BENCH_REGIME_VARIANTS, a comma-separated list of Node flags and `NAME=value` environment
 * variables (e.g. "--max-semi-space-size=64,TESSERA_SESSION_CACHE_TTL_MS=60000,"), is given to
 * the processes in turn, so that variants meet the same machine. With BENCH_HEAP_SNAPSHOTS=<folder>
 * each process also writes heap snapshots before and after its warm-up and prints what the
 * warm-up left alive, by object type.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { load } from './load.js';
import { serverCommand, serverEnv } from './pinning.js';
import { join } from 'node:path';
import { growthPerConnection, summarize, totalGrowthPerConnection } from './heap-summary.js';
import { warmUp } from './warmup.js';
import { summarizeGcTrace, type GcSummary } from './gc-trace.js';

/** A Tessera bench server whose standard output (the GC trace) is kept, line by line. */
class TracedServer {
  readonly lines: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly publishableKey: string,
  ) {}

  static async start(flags: string[]): Promise<TracedServer> {
    // `NAME=value` among the flags is an environment variable of the server, not a Node flag.
    const env = Object.fromEntries(
      flags.filter((flag) => /^[A-Z_]+=/.test(flag)).map((flag) => flag.split(/=(.*)/s).slice(0, 2)),
    ) as Record<string, string>;
    const { command, args } = serverCommand([
      '--expose-gc',
      ...flags.filter((flag) => !/^[A-Z_]+=/.test(flag)),
      new URL('./realtime-server.mjs', import.meta.url).pathname,
    ]);
    const child = spawn(command, args, {
      env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...serverEnv(), ...env },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const lines: string[] = [];
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
    });
    const ready = await reply<{ url: string; publishableKey: string }>(child, 'ready', 60_000);
    const server = new TracedServer(child, ready.url, ready.publishableKey);
    // The same array: lines keep arriving after the constructor.
    (server as { lines: string[] }).lines = lines;
    return server;
  }

  async sessions(count: number): Promise<string[]> {
    this.child.send({ type: 'sessions', count });
    return (await reply<{ tokens: string[] }>(this.child, 'sessions', 600_000)).tokens;
  }

  async cpuMicros(): Promise<number> {
    this.child.send({ type: 'cpu' });
    return (await reply<{ micros: number }>(this.child, 'cpu', 60_000)).micros;
  }

  async heapSnapshot(path: string): Promise<string> {
    this.child.send({ type: 'heapSnapshot', path });
    return (await reply<{ path: string }>(this.child, 'heapSnapshot', 600_000)).path;
  }

  async heapSpaces(): Promise<Record<string, number>> {
    this.child.send({ type: 'heapSpaces' });
    return (await reply<{ spaces: Record<string, number> }>(this.child, 'heapSpaces', 60_000)).spaces;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

function reply<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} answer from the bench server`)), timeoutMs);
    const onMessage = (message: { type: string } & T) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited with ${code}`));
    });
  });
}

export interface RegimeLoad {
  requestsPerSecond: number;
  /** The young generation's capacity (V8's new space) when the load began, KiB. */
  newSpaceKiB: number;
  /** The server process's CPU time (every thread: event loop, GC helpers) per request, µs. */
  cpuMicrosPerRequest: number;
  gc: GcSummary;
  requests: number;
}

export interface RegimeProcess {
  flags: string;
  loads: RegimeLoad[];
  /** Young generation's capacity (new space) after the loads, KiB. */
  newSpaceKiB: number;
}

/** One process: sessions, warm-up, then `loads` GET /me loads, each with its GC summary. */
export async function regimeProcess({
  flags,
  sessions,
  warmupSeconds,
  loads,
  seconds,
  password,
  idleSeconds,
}: {
  idleSeconds: number;
  flags: string[];
  sessions: number;
  warmupSeconds: number;
  loads: number;
  seconds: number;
  password: string;
}): Promise<RegimeProcess> {
  const server = await TracedServer.start(['--trace-gc-nvp', ...flags]);
  try {
    const tokens = await server.sessions(sessions);
    const app = `${server.url}/v1/apps/demo/chat`;
    const snapshots = process.env.BENCH_HEAP_SNAPSHOTS;
    const before =
      snapshots === undefined || snapshots === ''
        ? undefined
        : await server.heapSnapshot(join(snapshots, `regime-${server.child.pid}-before-warmup.heapsnapshot`));
    await warmUp(app, server.publishableKey, password, warmupSeconds);
    // Every token once, 50 at a time, so that the timed loads (each of which starts again at the
    // first token) meet caches that have seen them all: what is measured is the steady state.
    await prime(`${app}/me`, tokens);
    if (before !== undefined) {
      const after = await server.heapSnapshot(join(snapshots!, `regime-${server.child.pid}-after-warmup.heapsnapshot`));
      printHeapGrowth(before, after);
    }
    // Idle as the server is while the bench measures a baseline in another process: V8's memory
    // reducer may then collect and shrink the young generation.
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const results: RegimeLoad[] = [];
    for (let index = 0; index < loads; index += 1) {
      const from = server.lines.length;
      const newSpaceKiB = ((await server.heapSpaces()).new_space ?? 0) / 1024;
      const cpu = await server.cpuMicros();
      const me = await load({ url: `${app}/me`, bearerTokens: tokens, connections: 50, durationSeconds: seconds });
      if (me.non2xx > 0) throw new Error(`GET /me answered ${me.non2xx} non-2xx`);
      const used = (await server.cpuMicros()) - cpu;
      results.push({
        requestsPerSecond: me.requestsPerSecond,
        newSpaceKiB,
        cpuMicrosPerRequest: used / (me.requestsPerSecond * seconds),
        requests: me.requestsPerSecond * seconds,
        gc: summarizeGcTrace(server.lines.slice(from)),
      });
    }
    const spaces = await server.heapSpaces();
    return { flags: flags.join(' '), loads: results, newSpaceKiB: (spaces.new_space ?? 0) / 1024 };
  } finally {
    await server.stop();
  }
}

/** What the warm-up (and the first pass over the tokens) left alive, by object type, after full collections. */
function printHeapGrowth(before: string, after: string): void {
  const [first, second] = [summarize(before), summarize(after)];
  console.log(
    `  heap left alive by the warm-up: ${(totalGrowthPerConnection(first, second, 1) / 1024).toFixed(0)} KiB in all (${before}, ${after}); largest kinds:`,
  );
  for (const { kind, objects, bytes } of growthPerConnection(first, second, 1, 12))
    console.log(`    ${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${objects.toFixed(0).padStart(7)} objects  ${kind}`);
}

async function prime(url: string, tokens: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${tokens[next++]!}` } });
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
}

export function describeLoad({
  requestsPerSecond,
  newSpaceKiB,
  cpuMicrosPerRequest,
  requests,
  gc,
}: RegimeLoad): string {
  const per10k = (value: number) => ((value / requests) * 10_000).toFixed(1);
  return (
    `new space ${newSpaceKiB.toFixed(0)} KiB at start: ${requestsPerSecond.toFixed(0).padStart(6)} req/s, ${cpuMicrosPerRequest.toFixed(1)} µs server CPU each; per 10k requests ${per10k(gc.scavenges)} scavenges ` +
    `(${gc.scavenges === 0 ? 0 : (gc.scavengePauseMs / gc.scavenges).toFixed(2)} ms each), ${per10k(gc.markCompacts)} mark-compacts; ` +
    `allocated ${(gc.allocatedBytes / requests).toFixed(0)} B, survived ${(gc.survivedBytes / requests).toFixed(0)} B, ` +
    `promoted ${(gc.promotedBytes / requests).toFixed(0)} B per request; survival ${gc.survivalPercent.toFixed(1)} %`
  );
}

/** `npm run bench -- regime`: many short processes, side by side in one run. */
export async function runRegimeBench({
  seconds,
  sessions,
  warmupSeconds,
  password,
}: {
  seconds: number;
  sessions: number;
  warmupSeconds: number;
  password: string;
}): Promise<RegimeProcess[]> {
  const processes = Number(process.env.BENCH_REGIME_PROCESSES ?? 6);
  const loads = Number(process.env.BENCH_REGIME_LOADS ?? 3);
  const variants = (process.env.BENCH_REGIME_VARIANTS ?? '').split(',').map((variant) => variant.trim());
  const base = process.env.BENCH_SERVER_NODE_OPTIONS?.split(' ').filter(Boolean) ?? [];
  const all: RegimeProcess[] = [];
  for (let index = 0; index < processes; index += 1) {
    // Variants alternate process by process, so that each meets the same machine.
    const variant = variants[index % variants.length]!;
    const flags = [...base, ...variant.split(' ').filter(Boolean)];
    const idleSeconds = Number(process.env.BENCH_REGIME_IDLE_SECONDS ?? 10);
    const result = await regimeProcess({ flags, sessions, warmupSeconds, loads, seconds, password, idleSeconds });
    all.push(result);
    console.log(
      `  process ${index + 1} [${result.flags || 'default flags'}] new space ${result.newSpaceKiB.toFixed(0)} KiB`,
    );
    for (const measured of result.loads) console.log(`    ${describeLoad(measured)}`);
  }
  return all;
}
