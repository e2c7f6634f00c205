/**
 * `npm run bench`: measures Tessera against baselines taken in the same run on the same machine,
 * and prints each figure as a ratio. Every load is bounded in time and runs on 127.0.0.1 only.
 *
 *   (a) password logins per second ÷ raw argon2id hashes per second        target ≥ 0.9
 *   (b) authenticated GET /me per second ÷ a bare Fastify route            target ≥ 0.5
 *   (c) p99 of GET /me during a login storm ÷ its idle p99                 target ≤ 3
 *
 * and the realtime gateway's figures (d), (e), (f), described in ./realtime.ts, the client
 * SDK's browser bundle size (g), described in ./client-size.ts, three nodes on PostgreSQL
 * and Redis (h)–(m), described in ./cluster.ts, and memory under made-up app paths and API
 * keys (n), described in ./memory.ts.
 *
 * `npm run bench` runs every part; `npm run bench -- rest`, `-- realtime`, `-- client-size`, `-- cluster` or `-- memory` runs one;
 * `-- revocation-window` runs the cluster's (m) alone; `-- pinned` runs `rest` and `realtime` pinned, every figure in
 * BENCH_ROUNDS rounds, with (e)'s heap snapshots, and closes with issue 16's table (./issue16.ts); `-- regime` starts
 * many short server processes and prints each one's GET /me with its GC trace (./regime.ts). Neither runs by default.
 * BENCH_SERVER_NODE_OPTIONS adds Node flags to the server processes (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 * BENCH_SECONDS sets each load's duration (default 10); BENCH_ROUNDS how many times (a), (b) and (c) alternate
 * baseline and subject (default 3, medians kept); BENCH_REALTIME_CONNECTIONS the idle
 * connections of (e) (default 10,000); BENCH_LOGOUT_RUNS the runs of (f), (h) and (m) (default 200);
 * BENCH_POSTGRES_URL and BENCH_REDIS_URL where (h)–(m) find PostgreSQL and Redis; BENCH_MEMORY_REQUESTS the
 * requests of (n) (default 200,000) and BENCH_MEMORY_STEP_SECONDS the time bound of each quarter of them (default 120).
 * BENCH_PIN=0 turns off the pinning of servers and load to separate cores (./pinning.ts, on by default with ≥ 2 cores);
 * BENCH_WARMUP_SECONDS the mixed traffic the REST server serves before (a)–(c) (default 20, 0 = none; ./warmup.ts);
 * BENCH_ME_SESSIONS the sessions of distinct users whose tokens (b) and (c) send in turn (default 10,000).
 */
import { load, loadInChildProcess } from './load.js';
import { BenchProcess } from './ipc.js';
import { startBareFastify } from './processes.js';
import { affinityOf, eventLoopCpuMs, machineCores, methodLine, pinning, pinThisProcess } from './pinning.js';
import { rawArgon2PerSecond } from './raw-argon2.js';
import { runRealtimeBench } from './realtime.js';
import { runClientSizeBench } from './client-size.js';
import { runClusterBench, runRevocationWindowBench } from './cluster.js';
import { runMemoryBench } from './memory.js';
import { runVerifierBench } from './verifier.js';
import { warmUp } from './warmup.js';
import { runRegimeBench } from './regime.js';
import { printIssue16 } from './issue16.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const cores = machineCores;
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 20);
const meSessions = Math.max(1, Number(process.env.BENCH_ME_SESSIONS ?? 10_000));
const PASSWORD = 'correct horse battery staple';
/** Password hashes the server computes at once: one on its one core when pinned, one per core otherwise. */
const hashesInFlight = pinning.enabled ? 1 : cores;

interface Figure {
  name: string;
  value: number;
  baseline: number;
  ratio: number;
  target: string;
  unit: string;
  /** The lowest and highest ratio of the rounds, when the figure was taken in rounds. */
  spread?: [number, number];
}
const figures: Figure[] = [];

function record(
  name: string,
  value: number,
  baseline: number,
  target: string,
  unit: string,
  ratio = value / baseline,
  spread?: [number, number],
): void {
  const figure: Figure = { name, value, baseline, ratio, target, unit, ...(spread === undefined ? {} : { spread }) };
  figures.push(figure);
  console.log(
    `${name}: ${value.toFixed(1)} vs baseline ${baseline.toFixed(1)} ${unit} → ratio ${figure.ratio.toFixed(3)}${spreadText(spread)} (target ${target})`,
  );
}

const spreadText = (spread?: [number, number]) =>
  spread === undefined ? '' : ` (rounds ${spread[0].toFixed(3)}–${spread[1].toFixed(3)})`;

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Measures baseline and subject alternately, `rounds` times — each subject right after its own
 * baseline — and keeps the medians and the median of the rounds' ratios: on a shared machine
 * whose speed drifts from minute to minute, a ratio of two measurements taken side by side is
 * far steadier than one of two taken apart.
 */
async function interleaved(
  baseline: () => Promise<number>,
  subject: () => Promise<number>,
): Promise<{ value: number; baseline: number; ratio: number; spread: [number, number] }> {
  const pairs: [number, number][] = [];
  for (let round = 0; round < rounds; round += 1) {
    const base = await baseline();
    pairs.push([base, await subject()]);
  }
  console.log(
    `  rounds (baseline → subject): ${pairs.map(([base, value]) => `${base.toFixed(1)} → ${value.toFixed(1)}`).join(', ')}`,
  );
  return {
    baseline: median(pairs.map(([base]) => base)),
    value: median(pairs.map(([, value]) => value)),
    ratio: median(pairs.map(([base, value]) => value / base)),
    spread: [
      Math.min(...pairs.map(([base, value]) => value / base)),
      Math.max(...pairs.map(([base, value]) => value / base)),
    ],
  };
}

const PARTS = [
  'rest',
  'realtime',
  'client-size',
  'cluster',
  'revocation-window',
  'memory',
  'verifier',
  'regime',
  'pinned',
] as const;
type Part = (typeof PARTS)[number];

function selectedParts(): Part[] {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((part) => !(PARTS as readonly string[]).includes(part));
  if (unknown.length > 0)
    throw new Error(`unknown bench part(s) ${unknown.join(', ')}; choose from ${PARTS.join(', ')}`);
  // `regime` is an investigation (issue 16), not a figure, and `pinned` is `rest` + `realtime`: only when asked for.
  if (asked.length === 0) return PARTS.filter((part) => part !== 'regime' && part !== 'pinned');
  // `pinned` (issue 16's table in one command) is the REST and realtime parts, pinned, with heap snapshots.
  return [...new Set(asked.flatMap((part) => (part === 'pinned' ? ['rest', 'realtime', 'pinned'] : [part])))] as Part[];
}

async function main(): Promise<void> {
  const parts = selectedParts();
  if (parts.includes('pinned') && !pinning.enabled)
    throw new Error(`npm run bench -- pinned needs the pinning, which is off here (${pinning.why})`);
  const unpin = pinThisProcess();
  console.log(
    `Tessera benchmark — ${new Date().toISOString()} — ${cores} cores, Node ${process.version}, ${seconds} s per load — ${parts.join(', ')}`,
  );
  console.log(`method: ${methodLine()}`);
  if (parts.includes('rest'))
    console.log(
      `method: REST figures ${warmupSeconds > 0 ? `after a ${warmupSeconds} s warm-up mix (signup, login, refresh, GET /me, logout)` : 'without warm-up'}; GET /me over ${meSessions} sessions of distinct users; ${rounds} rounds, each baseline right before its subject`,
    );
  console.log(`  bench process ${process.pid}: ${affinityOf(process.pid)}`);
  if (parts.includes('rest')) await runRestBench();
  if (parts.includes('realtime')) {
    await runRealtimeBench({
      seconds,
      connections: Number(process.env.BENCH_REALTIME_CONNECTIONS ?? 10_000),
      logoutRuns: Number(process.env.BENCH_LOGOUT_RUNS ?? 200),
      rounds,
      heapSnapshots:
        process.env.BENCH_HEAP_SNAPSHOTS ||
        (parts.includes('pinned') ? join(tmpdir(), `tessera-bench-heap-${process.pid}`) : undefined),
      record,
    });
  }
  if (parts.includes('regime'))
    await runRegimeBench({ seconds, sessions: meSessions, warmupSeconds, password: PASSWORD });
  if (parts.includes('client-size')) await runClientSizeBench({ record });
  if (parts.includes('memory'))
    await runMemoryBench({
      requests: Number(process.env.BENCH_MEMORY_REQUESTS ?? 200_000),
      stepSeconds: Number(process.env.BENCH_MEMORY_STEP_SECONDS ?? 120),
      record,
    });
  // Three nodes, PostgreSQL and Redis share the machine's cores as a one-machine cluster does: not pinned.
  unpin();
  if (parts.includes('cluster'))
    await runClusterBench({
      seconds,
      rounds,
      logoutRuns: Number(process.env.BENCH_LOGOUT_RUNS ?? 200),
      rawArgon2PerSecond: async () => (await rawArgon2PerSecond({ seconds, inFlight: cores, pinned: false })).perSecond,
      record,
    });
  // (m) is part of the cluster bench; asked for alone, it runs on a cluster of its own.
  if (parts.includes('revocation-window') && !parts.includes('cluster'))
    await runRevocationWindowBench({ seconds, logoutRuns: Number(process.env.BENCH_LOGOUT_RUNS ?? 200), record });
  // The verifier's figures (v1)–(v5), described in ./verifier.ts; unpinned, as the cluster's.
  if (parts.includes('verifier'))
    await runVerifierBench({ seconds, rounds, logoutRuns: Number(process.env.BENCH_LOGOUT_RUNS ?? 200), record });
  console.log(
    '\n| figure | Tessera | baseline | ratio | rounds (lowest–highest ratio) | target |\n| --- | --- | --- | --- | --- | --- |',
  );
  for (const figure of figures)
    console.log(
      `| ${figure.name} | ${figure.value.toFixed(1)} | ${figure.baseline.toFixed(1)} | ${figure.ratio.toFixed(3)} | ${figure.spread === undefined ? '' : `${figure.spread[0].toFixed(3)}–${figure.spread[1].toFixed(3)}`} | ${figure.target} |`,
    );
  if (parts.includes('pinned')) printIssue16(figures);
}

/** Prints where every thread of the REST bench's processes may run (a check of the pinning). */
function printAffinity(when: string, processes: Record<string, number>): void {
  const lines = Object.entries(processes).map(([name, pid]) => `${name} ${pid}: ${affinityOf(pid)}`);
  console.log(`  CPUs ${when} — ${lines.join('; ')}`);
}

async function runRestBench(): Promise<void> {
  const tessera = await BenchProcess.start('./realtime-server.mjs');
  const bare = await startBareFastify();
  try {
    const pids = { bench: process.pid, tessera: tessera.pid, 'bare Fastify': bare.pid };
    printAffinity('at start', pids);
    const app = `${tessera.url}/v1/apps/demo/chat`;
    const publishableKey = tessera.publishableKey!;
    const json = { 'content-type': 'application/json', 'x-tessera-key': publishableKey };
    const signup = await fetch(`${app}/users`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email: 'bench@example.com', password: PASSWORD }),
    });
    if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${await signup.text()}`);
    const loginBody = JSON.stringify({ strategy: 'local', email: 'bench@example.com', password: PASSWORD });

    // Sessions made inside the server (a user and a session each, as a password login makes them,
    // without the argon2id verification): 10,000 password logins would take minutes.
    const made = performance.now();
    const tokens = await tessera.sessions(meSessions);
    console.log(
      `  ${tokens.length} sessions of distinct users made in ${((performance.now() - made) / 1000).toFixed(1)} s`,
    );

    const warmup = await warmUp(app, publishableKey, PASSWORD, warmupSeconds);
    if (warmupSeconds > 0)
      console.log(
        `  warm-up: ${warmupSeconds} s, ${warmup.cycles} cycles (signup, login, refresh, GET /me, logout), ${warmup.requests} requests, ${warmup.failures} failed cycles, statuses ${JSON.stringify(warmup.statuses)}`,
      );

    await runRestFigures({ app, json, loginBody, tokens, bareUrl: bare.url, server: tessera });
    printAffinity('after the loads', pids);
  } finally {
    await Promise.all([tessera.stop(), bare.stop()]);
  }
}

interface RestTargets {
  app: string;
  json: Record<string, string>;
  loginBody: string;
  tokens: string[];
  bareUrl: string;
  server: BenchProcess;
}

async function runRestFigures({ app, json, loginBody, tokens, bareUrl, server }: RestTargets): Promise<void> {
  // (a) logins vs raw argon2id, as many in flight as the server hashes at once, on the same core(s)
  let argon2Affinity: string | undefined;
  const a = await interleaved(
    async () => {
      const raw = await rawArgon2PerSecond({ seconds, inFlight: hashesInFlight, pinned: pinning.enabled });
      if (argon2Affinity === undefined) console.log(`  raw argon2id process: ${(argon2Affinity = raw.affinity)}`);
      return raw.perSecond;
    },
    async () => {
      const cpu = await serverCpu(server);
      const logins = await load({
        url: `${app}/authentication`,
        method: 'POST',
        headers: json,
        body: loginBody,
        connections: cores * 4,
        durationSeconds: seconds,
      });
      if (logins.non2xx > 0 || logins.errors > 0)
        console.log(`  logins: ${logins.non2xx} non-2xx, ${logins.errors} errors`);
      await printCpuPer('login', server, cpu, logins.requestsPerSecond * seconds, 'ms');
      return logins.requestsPerSecond;
    },
  );
  record(
    '(a) password logins/s ÷ raw argon2id verifications/s',
    a.value,
    a.baseline,
    pinning.enabled ? '≥ 0.85' : '≥ 0.9',
    'per s',
    a.ratio,
    a.spread,
  );

  // (b) GET /me vs bare Fastify; both receive the same rotating Authorization headers
  const b = await interleaved(
    async () =>
      (
        await withLoadCpu('bare Fastify', () =>
          load({ url: `${bareUrl}/me`, bearerTokens: tokens, connections: 50, durationSeconds: seconds }),
        )
      ).requestsPerSecond,
    async () => {
      const cpu = await serverCpu(server);
      const me = await withLoadCpu('GET /me', () =>
        load({ url: `${app}/me`, bearerTokens: tokens, connections: 50, durationSeconds: seconds }),
      );
      if (me.non2xx > 0) throw new Error(`GET /me answered ${me.non2xx} non-2xx`);
      await printCpuPer('GET /me', server, cpu, me.requestsPerSecond * seconds, 'µs');
      return me.requestsPerSecond;
    },
  );
  record(
    `(b) authenticated GET /me req/s (${tokens.length} sessions) ÷ bare Fastify req/s`,
    b.value,
    b.baseline,
    pinning.enabled ? '≥ 0.6' : '≥ 0.5',
    'req/s',
    b.ratio,
    b.spread,
  );

  // (c) GET /me p99 during a login storm vs idle, at the same fixed request rate
  const rate = 200;
  const me = { url: `${app}/me`, bearerTokens: tokens, connections: 10, durationSeconds: seconds, overallRate: rate };
  const c = await interleaved(
    async () => (await load(me)).p99Ms,
    async () => {
      // The storm runs in a process of its own, a second longer than the measurement, which starts
      // once the storm's process is up: the measured window lies inside the storm.
      const storming = loadInChildProcess({
        url: `${app}/authentication`,
        method: 'POST',
        headers: json,
        body: loginBody,
        connections: 64,
        durationSeconds: seconds + 1,
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const [storm, busy] = await Promise.all([storming, load(me)]);
      // Logins the storm left queued are still hashed after it ends: the next round starts once they are done.
      await drainLogins(app, json, loginBody);
      console.log(
        `  login storm: ${storm.requestsPerSecond.toFixed(1)} logins/s, ${storm.non2xx} answered 503 overloaded or other non-2xx; GET /me p50 ${busy.p50Ms} ms`,
      );
      return busy.p99Ms;
    },
  );
  record(
    `(c) GET /me p99 during a login storm ÷ idle p99 (ms, ${rate} req/s)`,
    c.value,
    c.baseline,
    '≤ 3',
    'ms',
    c.ratio,
    c.spread,
  );
}

/** The server process's CPU so far (every thread) and its event loop's (main thread's), ms. */
async function serverCpu(server: BenchProcess): Promise<{ all: number; loop: number | undefined }> {
  return { all: (await server.cpuMicros()) / 1000, loop: eventLoopCpuMs(server.pid) };
}

/**
 * Prints the server's CPU per request since `before`: steadier than a rate on a shared machine.
 * The event loop's share leaves out the hashing threads and the collector's helper threads.
 */
async function printCpuPer(
  what: string,
  server: BenchProcess,
  before: { all: number; loop: number | undefined },
  requests: number,
  unit: 'ms' | 'µs',
): Promise<void> {
  const after = await serverCpu(server);
  const scale = unit === 'ms' ? 1 : 1000;
  const per = (ms: number) => ((ms * scale) / Math.max(1, requests)).toFixed(unit === 'ms' ? 2 : 1);
  const loop =
    after.loop === undefined || before.loop === undefined
      ? ''
      : `, event loop ${per(after.loop - before.loop)} ${unit}`;
  console.log(`  server CPU per ${what}: ${per(after.all - before.all)} ${unit} (all threads)${loop}`);
}

/**
 * Runs a load and prints the share of a core this process (the load generator) used meanwhile:
 * near 100 % pinned, the figure measures the load generator rather than the server.
 */
async function withLoadCpu<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await run();
  const { user, system } = process.cpuUsage(cpu);
  const share = (user + system) / 1000 / (performance.now() - started);
  console.log(`  ${label}: the load generator used ${(share * 100).toFixed(0)} % of a core`);
  return result;
}

/**
 * Waits until a login sent now is answered: hashes are queued in order, so every earlier one is
 * done by then (a 503 `overloaded` means the queue is still full: try again shortly, up to 30 s).
 */
async function drainLogins(app: string, json: Record<string, string>, loginBody: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const response = await fetch(`${app}/authentication`, { method: 'POST', headers: json, body: loginBody });
    await response.arrayBuffer();
    if (response.status !== 503) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

await main();
