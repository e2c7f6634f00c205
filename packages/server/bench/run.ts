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
 * `-- revocation-window` runs the cluster's (m) alone.
 * BENCH_SERVER_NODE_OPTIONS adds Node flags to the server processes (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 * BENCH_SECONDS sets each load's duration (default 10); BENCH_ROUNDS how many times (a), (b) and (c) alternate
 * baseline and subject (default 3, medians kept); BENCH_REALTIME_CONNECTIONS the idle
 * connections of (e) (default 10,000); BENCH_LOGOUT_RUNS the runs of (f), (h) and (m) (default 200);
 * BENCH_POSTGRES_URL and BENCH_REDIS_URL where (h)–(m) find PostgreSQL and Redis; BENCH_MEMORY_REQUESTS the
 * requests of (n) (default 200,000) and BENCH_MEMORY_STEP_SECONDS the time bound of each quarter of them (default 120).
 */
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { load, loadInChildProcess } from './load.js';
import { startBareFastify, startTessera } from './processes.js';
import { runRealtimeBench } from './realtime.js';
import { runClientSizeBench } from './client-size.js';
import { runClusterBench, runRevocationWindowBench } from './cluster.js';
import { runMemoryBench } from './memory.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const cores = availableParallelism();
// @node-rs/argon2's Algorithm is a const enum, which isolated modules cannot read: 2 is Argon2id.
const ARGON2ID = 2;
const OWASP = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const PASSWORD = 'correct horse battery staple';

interface Figure {
  name: string;
  value: number;
  baseline: number;
  ratio: number;
  target: string;
  unit: string;
}
const figures: Figure[] = [];

function record(
  name: string,
  value: number,
  baseline: number,
  target: string,
  unit: string,
  ratio = value / baseline,
): void {
  const figure = { name, value, baseline, ratio, target, unit };
  figures.push(figure);
  console.log(
    `${name}: ${value.toFixed(1)} vs baseline ${baseline.toFixed(1)} ${unit} → ratio ${figure.ratio.toFixed(3)} (target ${target})`,
  );
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Measures baseline and subject alternately, `rounds` times, and keeps the medians and the
 * median of the rounds' ratios: on a shared machine whose speed drifts from minute to minute,
 * a ratio of two measurements taken side by side is far steadier than one of two taken apart.
 */
async function interleaved(
  baseline: () => Promise<number>,
  subject: () => Promise<number>,
): Promise<{ value: number; baseline: number; ratio: number }> {
  const pairs: [number, number][] = [];
  for (let round = 0; round < rounds; round += 1) pairs.push([await baseline(), await subject()]);
  console.log(
    `  rounds (baseline → subject): ${pairs.map(([base, value]) => `${base.toFixed(1)} → ${value.toFixed(1)}`).join(', ')}`,
  );
  return {
    baseline: median(pairs.map(([base]) => base)),
    value: median(pairs.map(([, value]) => value)),
    ratio: median(pairs.map(([base, value]) => value / base)),
  };
}

/** Raw argon2id verifications per second with `cores` in flight, as many as the server runs. */
async function rawArgon2PerSecond(): Promise<number> {
  const stored = await hash(PASSWORD, OWASP);
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await verify(stored, PASSWORD);
      done += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: cores }, worker));
  return done / ((performance.now() - started) / 1000);
}

const PARTS = ['rest', 'realtime', 'client-size', 'cluster', 'revocation-window', 'memory'] as const;
type Part = (typeof PARTS)[number];

function selectedParts(): Part[] {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((part) => !(PARTS as readonly string[]).includes(part));
  if (unknown.length > 0)
    throw new Error(`unknown bench part(s) ${unknown.join(', ')}; choose from ${PARTS.join(', ')}`);
  return asked.length === 0 ? [...PARTS] : (asked as Part[]);
}

async function main(): Promise<void> {
  const parts = selectedParts();
  console.log(
    `Tessera benchmark — ${new Date().toISOString()} — ${cores} cores, Node ${process.version}, ${seconds} s per load — ${parts.join(', ')}`,
  );
  if (parts.includes('rest')) await runRestBench();
  if (parts.includes('realtime')) {
    await runRealtimeBench({
      seconds,
      connections: Number(process.env.BENCH_REALTIME_CONNECTIONS ?? 10_000),
      logoutRuns: Number(process.env.BENCH_LOGOUT_RUNS ?? 200),
      record,
    });
  }
  if (parts.includes('client-size')) await runClientSizeBench({ record });
  if (parts.includes('cluster'))
    await runClusterBench({
      seconds,
      rounds,
      logoutRuns: Number(process.env.BENCH_LOGOUT_RUNS ?? 200),
      rawArgon2PerSecond,
      record,
    });
  // (m) is part of the cluster bench; asked for alone, it runs on a cluster of its own.
  if (parts.includes('revocation-window') && !parts.includes('cluster'))
    await runRevocationWindowBench({ seconds, logoutRuns: Number(process.env.BENCH_LOGOUT_RUNS ?? 200), record });
  if (parts.includes('memory'))
    await runMemoryBench({
      requests: Number(process.env.BENCH_MEMORY_REQUESTS ?? 200_000),
      stepSeconds: Number(process.env.BENCH_MEMORY_STEP_SECONDS ?? 120),
      record,
    });
  console.log('\n| figure | Tessera | baseline | ratio | target |\n| --- | --- | --- | --- | --- |');
  for (const figure of figures)
    console.log(
      `| ${figure.name} | ${figure.value.toFixed(1)} | ${figure.baseline.toFixed(1)} | ${figure.ratio.toFixed(3)} | ${figure.target} |`,
    );
}

async function runRestBench(): Promise<void> {
  const tessera = await startTessera();
  const bare = await startBareFastify();
  try {
    const app = `${tessera.url}/v1/apps/demo/chat`;
    const json = { 'content-type': 'application/json', 'x-tessera-key': tessera.publishableKey };
    const signup = await fetch(`${app}/users`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email: 'bench@example.com', password: PASSWORD }),
    });
    if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${await signup.text()}`);
    const loginBody = JSON.stringify({ strategy: 'local', email: 'bench@example.com', password: PASSWORD });
    const loggedIn = (await (
      await fetch(`${app}/authentication`, { method: 'POST', headers: json, body: loginBody })
    ).json()) as { accessToken: string };
    const bearer = { authorization: `Bearer ${loggedIn.accessToken}` };

    // (a) logins vs raw argon2id
    const a = await interleaved(rawArgon2PerSecond, async () => {
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
      return logins.requestsPerSecond;
    });
    record('(a) password logins/s ÷ raw argon2id verifications/s', a.value, a.baseline, '≥ 0.9', 'per s', a.ratio);

    // (b) GET /me vs bare Fastify
    const b = await interleaved(
      async () => (await load({ url: `${bare.url}/me`, connections: 50, durationSeconds: seconds })).requestsPerSecond,
      async () => {
        const me = await load({ url: `${app}/me`, headers: bearer, connections: 50, durationSeconds: seconds });
        if (me.non2xx > 0) throw new Error(`GET /me answered ${me.non2xx} non-2xx`);
        return me.requestsPerSecond;
      },
    );
    record('(b) authenticated GET /me req/s ÷ bare Fastify req/s', b.value, b.baseline, '≥ 0.5', 'req/s', b.ratio);

    // (c) GET /me p99 during a login storm vs idle, at the same fixed request rate
    const rate = 200;
    const c = await interleaved(
      async () =>
        (
          await load({
            url: `${app}/me`,
            headers: bearer,
            connections: 10,
            durationSeconds: seconds,
            overallRate: rate,
          })
        ).p99Ms,
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
        const [storm, busy] = await Promise.all([
          storming,
          load({ url: `${app}/me`, headers: bearer, connections: 10, durationSeconds: seconds, overallRate: rate }),
        ]);
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
    );
  } finally {
    await Promise.all([tessera.stop(), bare.stop()]);
  }
}

await main();
