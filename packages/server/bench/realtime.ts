/**
 * The realtime part of `npm run bench` (issue 4, item 8), each figure next to a baseline taken
 * in the same run: a bare `ws` server in a process of its own. The clients run in this process;
 * each server in its own; loopback only.
 *
 *   (d) authenticated handshakes per second (token at the upgrade, until `authenticated`)
 *       vs raw `ws` handshakes per second (until the server's first frame)
 *   (d2) socket logins per second: an `authenticate` frame spending a reconnect token (what every
 *       reconnect does), until `authenticated`, vs raw `ws` handshakes per second
 *   (e) memory per idle authenticated connection at BENCH_REALTIME_CONNECTIONS (default 10,000)
 *       vs raw `ws`: the server process's RSS and heap after full GCs, before and after
 *   (f) time from a REST logout call to the client's close event, p50 / p99 over BENCH_LOGOUT_RUNS
 */
import { REALTIME_SUBPROTOCOL } from '@tessera/protocol';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BenchProcess, type BenchMemory } from './ipc.js';
import { affinityOf } from './pinning.js';
import { growthPerConnection, summarize, totalGrowthPerConnection } from './heap-summary.js';
import { issue16Notes } from './issue16.js';

export type RecordFigure = (
  name: string,
  value: number,
  baseline: number,
  target: string,
  unit: string,
  ratio?: number,
  spread?: [number, number],
) => void;

export interface RealtimeBenchOptions {
  seconds: number;
  connections: number;
  logoutRuns: number;
  /** Times (d) and (e) alternate baseline and subject; medians kept, the lowest and highest ratio printed. */
  rounds?: number;
  /** A folder for the heap snapshots of what the heap holds per connection; none when undefined. */
  heapSnapshots?: string | undefined;
  record: RecordFigure;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Baseline then subject, `rounds` times: the medians, the median ratio and the rounds' lowest and highest ratio. */
async function inRounds<T>(
  rounds: number,
  baseline: () => Promise<T>,
  subject: () => Promise<T>,
  valueOf: (taken: T) => number,
  label: string,
): Promise<{ value: number; baseline: number; ratio: number; spread: [number, number]; last: [T, T] }> {
  const pairs: [T, T][] = [];
  for (let round = 0; round < Math.max(1, rounds); round += 1) pairs.push([await baseline(), await subject()]);
  const ratios = pairs.map(([base, value]) => valueOf(value) / valueOf(base));
  console.log(
    `  ${label} rounds (baseline → Tessera): ${pairs.map(([base, value]) => `${valueOf(base).toFixed(2)} → ${valueOf(value).toFixed(2)}`).join(', ')}`,
  );
  return {
    baseline: median(pairs.map(([base]) => valueOf(base))),
    value: median(pairs.map(([, value]) => valueOf(value))),
    ratio: median(ratios),
    spread: [Math.min(...ratios), Math.max(...ratios)],
    last: pairs[pairs.length - 1]!,
  };
}

const HANDSHAKE_CONCURRENCY = 64;
const OPEN_CONCURRENCY = 256;
const WS_PATH = '/v1/apps/demo/chat/realtime';
/** Logout runs not counted: the first ones pay for the HTTP client's connection and cold code. */
const LOGOUT_WARMUP_RUNS = 5;

/** Opens one socket and resolves once its first frame arrives (or rejects on close or error). */
export function handshake(url: string, token?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [REALTIME_SUBPROTOCOL], {
      perMessageDeflate: false,
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
    });
    ws.once('message', () => resolve(ws));
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed with ${code} before its first frame`)));
  });
}

/** Handshakes per second with `HANDSHAKE_CONCURRENCY` in flight for `seconds`; each socket is dropped once answered. */
async function handshakesPerSecond(
  url: string,
  seconds: number,
  tokens?: string[],
): Promise<{ rate: number; failures: number }> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failures = 0;
  const worker = async (offset: number) => {
    for (let index = offset; performance.now() < deadline; index += HANDSHAKE_CONCURRENCY) {
      try {
        (await handshake(url, tokens?.[index % tokens.length])).terminate();
        done += 1;
      } catch {
        failures += 1;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: HANDSHAKE_CONCURRENCY }, (_unused, offset) => worker(offset)));
  return { rate: done / ((performance.now() - started) / 1000), failures };
}

/** Opens a socket with the app's key at the upgrade, logs in by an `authenticate` frame, resolves once answered. */
function socketLogin(url: string, publishableKey: string, reconnectToken: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [REALTIME_SUBPROTOCOL], {
      perMessageDeflate: false,
      headers: { 'x-tessera-key': publishableKey },
    });
    ws.once('open', () =>
      ws.send(JSON.stringify({ type: 'authenticate', strategy: 'reconnect', token: reconnectToken })),
    );
    ws.once('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string };
      if (frame.type === 'authenticated') resolve(ws);
      else reject(new Error(`answered ${data.toString().slice(0, 200)}`));
    });
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed with ${code} before its first frame`)));
  });
}

/** Socket logins per second, `HANDSHAKE_CONCURRENCY` in flight, each spending one of `tokens` (bounded by their count). */
async function socketLoginsPerSecond(
  url: string,
  seconds: number,
  publishableKey: string,
  tokens: string[],
): Promise<{ rate: number; failures: number; seconds: number }> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (performance.now() < deadline && next < tokens.length) {
      const token = tokens[next++]!;
      try {
        (await socketLogin(url, publishableKey, token)).terminate();
        done += 1;
      } catch (error) {
        if (failures === 0) console.log(`  first socket login failure: ${(error as Error).message}`);
        failures += 1;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: HANDSHAKE_CONCURRENCY }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { rate: done / elapsed, failures, seconds: elapsed };
}

/** Opens `count` sockets that stay open, `OPEN_CONCURRENCY` at a time. */
async function openIdle(url: string, count: number, tokens?: string[]): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const ws = await handshake(url, tokens?.[index % tokens.length]);
      ws.on('error', () => undefined);
      sockets.push(ws);
    }
  };
  await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, worker));
  return sockets;
}

function closeAll(sockets: WebSocket[]): void {
  for (const ws of sockets) ws.terminate();
}

/** Bytes per connection between two measurements. */
function perConnection(before: BenchMemory, after: BenchMemory, count: number): { rss: number; heap: number } {
  return {
    rss: (after.rss - before.rss) / count,
    heap: (after.heapUsed + after.external - before.heapUsed - before.external) / count,
  };
}

/** Until the server reports no open connection (closes reach it asynchronously). */
async function drained(server: BenchProcess): Promise<void> {
  for (let attempt = 0; attempt < 100 && (await server.memory()).connections > 0; attempt += 1)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Memory per idle connection: a warm-up round first (so that code, pools and heap spaces the
 * first connections create are not counted), then `count` connections between two measurements.
 */
async function idleMemory(
  server: BenchProcess,
  url: string,
  count: number,
  tokens?: string[],
  warmupTokens?: string[],
): Promise<{ rss: number; heap: number; opened: number }> {
  closeAll(await openIdle(url, Math.min(count, 1000), warmupTokens));
  await drained(server);
  const before = await server.memory();
  const sockets = await openIdle(url, count, tokens);
  const after = await server.memory();
  if (after.connections < count)
    throw new Error(`only ${after.connections} of ${count} connections open on the server`);
  closeAll(sockets);
  return { ...perConnection(before.memory, after.memory, count), opened: sockets.length };
}

/**
 * What the heap holds per idle connection, by object type: a pass of its own after (e) (a
 * snapshot would distort (e)'s RSS), with heap snapshots written to `dir` before and after
 * `count` connections. Opt-in (BENCH_HEAP_SNAPSHOTS=<dir>): snapshots of 10,000 connections are slow.
 */
async function heapPerConnection(
  label: string,
  server: BenchProcess,
  url: string,
  count: number,
  dir: string,
  tokens?: string[],
): Promise<void> {
  await drained(server);
  const before = await server.heapSnapshot(join(dir, `${label}-before.heapsnapshot`));
  const sockets = await openIdle(url, count, tokens);
  const after = await server.heapSnapshot(join(dir, `${label}-after.heapsnapshot`));
  closeAll(sockets);
  const [first, second] = [summarize(before), summarize(after)];
  const total = totalGrowthPerConnection(first, second, count);
  console.log(
    `  ${label}: heap growth per idle connection ${total.toFixed(0)} B in all; by type, largest first (${before}, ${after}):`,
  );
  const growth = growthPerConnection(first, second, count);
  const lines = growth.map(
    ({ kind, objects, bytes }) =>
      `    ${bytes.toFixed(0).padStart(6)} B  ${objects.toFixed(2).padStart(6)} objects  ${kind}`,
  );
  console.log(lines.join('\n'));
  issue16Notes.push(
    `What the heap holds per idle connection, ${label}: ${total.toFixed(0)} B in all; largest kinds:`,
    ...lines,
  );
}

/** From the start of `DELETE …/authentication` to the close event of the socket it ends, per run. */
async function logoutToClose(baseUrl: string, tokens: string[]): Promise<number[]> {
  const samples: number[] = [];
  for (const token of tokens) {
    const ws = await handshake(`${baseUrl.replace(/^http/, 'ws')}${WS_PATH}`, token);
    const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(performance.now())));
    const started = performance.now();
    const response = await fetch(`${baseUrl}/v1/apps/demo/chat/authentication`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status !== 200) throw new Error(`logout answered ${response.status}`);
    samples.push((await closed) - started);
  }
  return samples;
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const KiB = 1024;

export async function runRealtimeBench({
  seconds,
  connections,
  logoutRuns,
  rounds = 1,
  heapSnapshots,
  record,
}: RealtimeBenchOptions): Promise<void> {
  const tessera = await BenchProcess.start('./realtime-server.mjs');
  const raw = await BenchProcess.start('./raw-ws-server.mjs');
  const printAffinity = (when: string) =>
    console.log(
      `  CPUs ${when} — bench ${process.pid}: ${affinityOf(process.pid)}; Tessera ${tessera.pid}: ${affinityOf(tessera.pid)}; raw ws ${raw.pid}: ${affinityOf(raw.pid)}`,
    );
  try {
    printAffinity('at start');
    const tesseraWs = `${tessera.url.replace(/^http/, 'ws')}${WS_PATH}`;
    const rawWs = raw.url.replace(/^http/, 'ws');
    const handshakeTokens = await tessera.sessions(1000);

    // (d) handshakes, each round's raw ws right before its Tessera
    const d = await inRounds(
      rounds,
      () => handshakesPerSecond(rawWs, seconds),
      () => handshakesPerSecond(tesseraWs, seconds, handshakeTokens),
      (taken) => taken.rate,
      '(d) handshakes/s',
    );
    if (d.last[0].failures + d.last[1].failures > 0)
      console.log(
        `  handshake failures in the last round: Tessera ${d.last[1].failures}, raw ws ${d.last[0].failures}`,
      );
    record(
      '(d) authenticated handshakes/s ÷ raw ws handshakes/s (issue 16: ≥ 0.8; issue 4: ≥ 5,000/s absolute)',
      d.value,
      d.baseline,
      '≥ 0.8',
      'per s',
      d.ratio,
      d.spread,
    );

    // (d2) socket logins by reconnect token: enough tokens for the whole load, made before it starts
    const logins = await tessera.reconnectTokens(Math.ceil(seconds * 4000));
    const rawLoginBaseline = await handshakesPerSecond(rawWs, seconds);
    const cpuBefore = await tessera.cpuMicros();
    const loginRate = await socketLoginsPerSecond(tesseraWs, seconds, logins.publishableKey, logins.tokens);
    const cpuPerLogin = (await tessera.cpuMicros()) - cpuBefore;
    if (loginRate.failures > 0) console.log(`  socket login failures: ${loginRate.failures}`);
    const loginsDone = Math.round(loginRate.rate * loginRate.seconds);
    console.log(
      `  server CPU per socket login (all threads, incl. the socket's open and close): ${(cpuPerLogin / 1000 / loginsDone).toFixed(3)} ms over ${loginsDone} logins`,
    );
    record(
      '(d2) socket logins by reconnect token/s ÷ raw ws handshakes/s',
      loginRate.rate,
      rawLoginBaseline.rate,
      'report',
      'per s',
    );

    printAffinity('after the handshake loads');

    // (e) memory per idle connection, each round's raw ws right before its Tessera (new sessions each round)
    const e = await inRounds(
      rounds,
      () => idleMemory(raw, rawWs, connections),
      async () => idleMemory(tessera, tesseraWs, connections, await tessera.sessions(connections), handshakeTokens),
      (taken) => taken.rss / KiB,
      `(e) RSS per idle connection at ${connections} (KiB)`,
    );
    const [rawMemory, tesseraMemory] = e.last;
    console.log(
      `  ${connections} idle connections, last round: Tessera ${(tesseraMemory.rss / KiB).toFixed(2)} KiB RSS, ${(tesseraMemory.heap / KiB).toFixed(2)} KiB heap+external each; raw ws ${(rawMemory.rss / KiB).toFixed(2)} KiB RSS, ${(rawMemory.heap / KiB).toFixed(2)} KiB heap+external each`,
    );
    record(
      `(e) RSS per idle authenticated connection at ${connections} ÷ raw ws (KiB; issue 16: ≤ 1.2×)`,
      e.value,
      e.baseline,
      '≤ 1.2× (≤ 10 KiB)',
      'KiB',
      e.ratio,
      e.spread,
    );
    record(
      `(e2) V8 heap + external per idle authenticated connection at ${connections} ÷ raw ws (KiB, last round)`,
      tesseraMemory.heap / KiB,
      rawMemory.heap / KiB,
      'report',
      'KiB',
    );

    const snapshots = heapSnapshots;
    if (snapshots !== undefined && snapshots !== '') {
      mkdirSync(snapshots, { recursive: true });
      await heapPerConnection('raw-ws', raw, rawWs, connections, snapshots);
      await heapPerConnection(
        'tessera',
        tessera,
        tesseraWs,
        connections,
        snapshots,
        await tessera.sessions(connections),
      );
    }

    // (f) logout → close
    const samples = (await logoutToClose(tessera.url, await tessera.sessions(logoutRuns + LOGOUT_WARMUP_RUNS))).slice(
      LOGOUT_WARMUP_RUNS,
    );
    console.log(
      `  logout → close over ${samples.length} runs: p50 ${percentile(samples, 50).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms`,
    );
    record(
      `(f) REST logout → client close event, p99 ÷ p50 (ms, ${samples.length} runs)`,
      percentile(samples, 99),
      percentile(samples, 50),
      'p99 ≤ 50 ms',
      'ms',
    );
  } finally {
    await Promise.all([tessera.stop(), raw.stop()]);
  }
}
