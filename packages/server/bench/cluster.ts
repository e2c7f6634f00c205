/**
 * The cluster part of `npm run bench` (issue 6, items 2 and 6): three `tessera start` processes
 * on one PostgreSQL schema (created for the run, dropped after) and one Redis (a key prefix of
 * the run's own), all with the same public URL and master key, as a deployment runs them. The
 * load and the clients run in the bench process; every server on 127.0.0.1.
 *
 *   (h) logout fan-out: DELETE …/authentication on node B → the close event of the session's
 *       sockets on nodes A and C; p50/p95/p99/max over BENCH_LOGOUT_RUNS users. Baseline: raw
 *       Redis PUBLISH → message delivery between two connections of the bench process, which
 *       is the floor any cross-node fan-out through Redis pays.
 *   (i)–(l) authenticated GET /me per second and password logins per second with the load on
 *       one node and spread over three, against bare Fastify and raw argon2id in the same rounds.
 *   (m) revocation window: node B has read a session; it logs out on node A; as soon as that
 *       answered, GET /me on node B, again until it answers 401. The window is the time from the
 *       logout's answer to the first probe that B refused (0 when the first one was refused);
 *       p50/p95/p99/max over BENCH_LOGOUT_RUNS users, and how many first probes still got 200,
 *       under a concurrent GET /me load on every node from processes of their own.
 *
 * BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) and BENCH_REDIS_URL
 * (default redis://127.0.0.1:6379) say where PostgreSQL and Redis run.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Redis } from 'ioredis';
import type WebSocket from 'ws';
import { postgres } from '../test/helpers/backends.js';
import { startNode, type NodeProcess } from '../test/helpers/node-process.js';
import { load, loadInChildProcess, type LoadOptions } from './load.js';
import { startBareFastify } from './processes.js';
import { handshake, percentile, type RecordFigure } from './realtime.js';

export interface ClusterBenchOptions {
  seconds: number;
  rounds: number;
  logoutRuns: number;
  /** Raw argon2id verifications per second with as many in flight as one node hashes at once. */
  rawArgon2PerSecond: () => Promise<number>;
  record: RecordFigure;
}

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The issuer every node signs with, as a load balancer's address would be; nothing connects to it. */
const PUBLIC_URL = 'http://127.0.0.1:8080';
const PASSWORD = 'correct horse battery staple';
const APP = '/v1/apps/demo/chat';
const NODES = 3;
const LOGOUT_WARMUP_RUNS = 5;
/** Longest wait for one socket's close in (h): a fan-out slower than this counts as lost. */
const CLOSE_WAIT_MS = 5000;
/** Users are signed up and logged in this many at a time before (h) is timed. */
const SETUP_CONCURRENCY = 4;
const REQUEST_TIMEOUT_MS = 30_000;
const WARMUP_SECONDS = 3;
const cores = availableParallelism();

interface BenchCluster {
  nodes: NodeProcess[];
  publishableKey: string;
  close(): Promise<void>;
}

/** Three nodes with the production hashing parameters (the same OWASP ones the rest bench uses). */
async function startBenchCluster(): Promise<BenchCluster> {
  const { databaseUrl, dataDir, dispose } = await postgres(POSTGRES_URL).provision();
  const env = {
    TESSERA_REDIS_KEY_PREFIX: `tessera-bench:${randomBytes(6).toString('hex')}:`,
    TESSERA_PUBLIC_URL: PUBLIC_URL,
    TESSERA_LOG_LEVEL: 'warn',
    TESSERA_ARGON2_MEMORY_KIB: '19456',
    TESSERA_ARGON2_TIME_COST: '2',
    TESSERA_HASH_CONCURRENCY: String(cores),
  };
  const nodes: NodeProcess[] = [];
  const stopAll = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await dispose();
  };
  try {
    const options = { databaseUrl: databaseUrl!, redisUrl: REDIS_URL, dataDir, env };
    nodes.push(await startNode(options));
    nodes.push(...(await Promise.all(Array.from({ length: NODES - 1 }, () => startNode(options)))));
    const publishableKey = nodes[0]!.firstRun?.publishableKey;
    if (publishableKey === undefined)
      throw new Error(`the first node did not create demo/chat:\n${nodes[0]!.output()}`);
    return { nodes, publishableKey, close: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function call(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  expected: number,
): Promise<unknown> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`${init.method} ${url} answered ${response.status}: ${text}`);
  return text === '' ? null : JSON.parse(text);
}

/** Signs a user up on one node and logs it in on another; resolves to its access token. */
async function newSession(cluster: BenchCluster, index: number): Promise<string> {
  const json = { 'content-type': 'application/json', 'x-tessera-key': cluster.publishableKey };
  const email = `bench-${index}-${randomBytes(4).toString('hex')}@example.com`;
  const on = (offset: number) => `${cluster.nodes[(index + offset) % NODES]!.url}${APP}`;
  await call(
    `${on(0)}/users`,
    { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD }) },
    201,
  );
  const login = (await call(
    `${on(1)}/authentication`,
    { method: 'POST', headers: json, body: JSON.stringify({ strategy: 'local', email, password: PASSWORD }) },
    201,
  )) as { accessToken: string };
  return login.accessToken;
}

async function newSessions(cluster: BenchCluster, count: number): Promise<string[]> {
  const tokens: string[] = new Array<string>(count);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < count; index = next++) tokens[index] = await newSession(cluster, index);
  };
  await Promise.all(Array.from({ length: SETUP_CONCURRENCY }, worker));
  return tokens;
}

/** Resolves with the time of the socket's close event, or undefined after CLOSE_WAIT_MS. */
function closeTime(ws: WebSocket): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), CLOSE_WAIT_MS);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now());
    });
  });
}

/** (h): per run, a socket on A and one on C, the logout on B; one sample per socket. */
async function logoutFanOut(
  cluster: BenchCluster,
  tokens: string[],
  deadline: number,
): Promise<{ samples: number[]; lost: number }> {
  const [a, b, c] = cluster.nodes.map((node) => node.url) as [string, string, string];
  const samples: number[] = [];
  let lost = 0;
  for (const [run, token] of tokens.entries()) {
    if (performance.now() > deadline) break;
    const sockets = await Promise.all(
      [a, c].map((url) => handshake(`${url.replace(/^http/, 'ws')}${APP}/realtime`, token)),
    );
    const closes = sockets.map(closeTime);
    const started = performance.now();
    await call(`${b}${APP}/authentication`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }, 200);
    for (const closed of await Promise.all(closes)) {
      if (run < LOGOUT_WARMUP_RUNS) continue;
      if (closed === undefined) lost += 1;
      else samples.push(closed - started);
    }
    for (const ws of sockets) ws.terminate();
  }
  return { samples, lost };
}

/** Longest a probe of (m) keeps asking node B: a window longer than this counts as unbounded. */
const WINDOW_CAP_MS = 5000;
/** Connections of (m)'s background load, per node. */
const WINDOW_LOAD_CONNECTIONS = 8;

interface RevocationWindow {
  /** Per run: ms from the logout's answer on A until B first refused the token (0: at once). */
  windows: number[];
  /** Runs whose first probe on B still answered 200. */
  staleFirstProbes: number;
  /** Runs in which B still answered 200 after WINDOW_CAP_MS. */
  unbounded: number;
}

/** (m): per run, B reads the session, A logs it out, then B is asked until it refuses the token. */
async function revocationWindow(cluster: BenchCluster, tokens: string[], deadline: number): Promise<RevocationWindow> {
  const [a, b] = cluster.nodes.map((node) => `${node.url}${APP}`) as [string, string];
  const result: RevocationWindow = { windows: [], staleFirstProbes: 0, unbounded: 0 };
  for (const [run, token] of tokens.entries()) {
    if (performance.now() > deadline) break;
    const bearer = { authorization: `Bearer ${token}` };
    await call(`${b}/me`, { method: 'GET', headers: bearer }, 200);
    await call(`${a}/authentication`, { method: 'DELETE', headers: bearer }, 200);
    const answered = performance.now();
    let window: number | undefined;
    let firstProbeStale = false;
    for (let probe = 0; window === undefined && performance.now() - answered < WINDOW_CAP_MS; probe += 1) {
      const sent = performance.now();
      const response = await fetch(`${b}/me`, { headers: bearer, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await response.arrayBuffer();
      if (response.status === 401) window = probe === 0 ? 0 : sent - answered;
      else if (response.status !== 200) throw new Error(`GET /me on node B answered ${response.status}`);
      else if (probe === 0) firstProbeStale = true;
    }
    if (run < LOGOUT_WARMUP_RUNS) continue;
    if (firstProbeStale) result.staleFirstProbes += 1;
    if (window === undefined) result.unbounded += 1;
    else result.windows.push(window);
  }
  return result;
}

/** (m) under a GET /me load on every node, each from a process of its own, for as long as the probes may take. */
async function measureRevocationWindow(
  cluster: BenchCluster,
  runs: number,
  seconds: number,
  record: RecordFigure,
): Promise<void> {
  const tokens = await newSessions(cluster, runs + LOGOUT_WARMUP_RUNS + 1);
  const loadToken = tokens.pop()!;
  const loadSeconds = Math.max(20, seconds * 3);
  const loads = cluster.nodes.map((node) =>
    loadInChildProcess({
      url: `${node.url}${APP}/me`,
      headers: { authorization: `Bearer ${loadToken}` },
      connections: WINDOW_LOAD_CONNECTIONS,
      durationSeconds: loadSeconds,
    }),
  );
  // The probes start once the loads run, and stop before they end.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const probed = await revocationWindow(cluster, tokens, performance.now() + (loadSeconds - 2) * 1000);
  const background = await Promise.all(loads);
  const total = probed.windows.length + probed.unbounded;
  const refused = background.reduce((sum, result) => sum + result.non2xx + result.errors, 0);
  console.log(
    `  background GET /me: ${background.map((result) => `${result.requestsPerSecond.toFixed(0)} req/s`).join(', ')} on nodes A, B, C; ${refused} non-2xx or failed`,
  );
  console.log(
    `  logout answered on A → GET /me on B refused, over ${total} runs: ${summary(probed.windows)}; first probe still 200 in ${probed.staleFirstProbes}; still 200 after ${WINDOW_CAP_MS} ms in ${probed.unbounded}`,
  );
  record(
    `(m) revocation window: logout answered on node A → node B refuses the token, p99 (ms, ${total} runs under load; first probe still 200 in ${probed.staleFirstProbes})`,
    percentile(probed.windows, 99),
    0,
    'p99 well under 1000 ms',
    'ms',
    probed.staleFirstProbes / Math.max(1, total),
  );
}

/** `npm run bench -- revocation-window`: (m) alone, on a cluster of its own. */
export async function runRevocationWindowBench({
  seconds,
  logoutRuns,
  record,
}: Pick<ClusterBenchOptions, 'seconds' | 'logoutRuns' | 'record'>): Promise<void> {
  const cluster = await startBenchCluster();
  try {
    await measureRevocationWindow(cluster, logoutRuns, seconds, record);
  } finally {
    await cluster.close();
  }
}

/** The baseline of (h): PUBLISH on one connection → the message event on a subscribed one. */
async function rawRedisDelivery(runs: number, deadline: number): Promise<number[]> {
  const publisher = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const subscriber = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const channel = `tessera-bench:${randomBytes(6).toString('hex')}:delivery`;
  try {
    await subscriber.subscribe(channel);
    let delivered: (() => void) | undefined;
    subscriber.on('message', () => delivered?.());
    const samples: number[] = [];
    for (let run = 0; run < runs + LOGOUT_WARMUP_RUNS && performance.now() < deadline; run += 1) {
      const arrived = new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), CLOSE_WAIT_MS);
        delivered = () => {
          clearTimeout(timer);
          resolve(performance.now());
        };
      });
      const started = performance.now();
      await publisher.publish(
        channel,
        JSON.stringify({ type: 'revoked', sessionIds: [randomBytes(8).toString('hex')] }),
      );
      const at = await arrived;
      if (at !== undefined && run >= LOGOUT_WARMUP_RUNS) samples.push(at - started);
    }
    return samples;
  } finally {
    publisher.disconnect();
    subscriber.disconnect();
  }
}

function summary(samples: number[]): string {
  return `p50 ${percentile(samples, 50).toFixed(2)} ms, p95 ${percentile(samples, 95).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms`;
}

/** `total` connections spread over `parts` loads as evenly as they go. */
function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_unused, index) => Math.floor(total / parts) + (index < total % parts ? 1 : 0));
}

/** Requests per second of the same load on each of `urls` at once, `connections` in all. */
async function spread(
  urls: string[],
  connections: number,
  options: Omit<LoadOptions, 'url' | 'connections'>,
  what: string,
): Promise<number> {
  const results = await Promise.all(
    split(connections, urls.length).map((share, index) => load({ ...options, url: urls[index]!, connections: share })),
  );
  const failed = results.reduce((sum, result) => sum + result.non2xx + result.errors, 0);
  if (failed > 0) console.log(`  ${what}: ${failed} non-2xx or failed`);
  return results.reduce((sum, result) => sum + result.requestsPerSecond, 0);
}

interface ThreeWay {
  baseline: number;
  one: number;
  three: number;
  oneRatio: number;
  threeRatio: number;
  scaling: number;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

/** Baseline, one node and three nodes measured in turn, `rounds` times; medians of values and of ratios. */
async function threeWay(
  rounds: number,
  baseline: () => Promise<number>,
  one: () => Promise<number>,
  three: () => Promise<number>,
): Promise<ThreeWay> {
  const taken: [number, number, number][] = [];
  for (let round = 0; round < rounds; round += 1) taken.push([await baseline(), await one(), await three()]);
  return {
    baseline: median(taken.map(([base]) => base)),
    one: median(taken.map(([, value]) => value)),
    three: median(taken.map(([, , value]) => value)),
    oneRatio: median(taken.map(([base, value]) => value / base)),
    threeRatio: median(taken.map(([base, , value]) => value / base)),
    scaling: median(taken.map(([, oneValue, threeValue]) => threeValue / oneValue)),
  };
}

export async function runClusterBench({
  seconds,
  rounds,
  logoutRuns,
  rawArgon2PerSecond,
  record,
}: ClusterBenchOptions): Promise<void> {
  const cluster = await startBenchCluster();
  const bare = await startBareFastify();
  try {
    const urls = cluster.nodes.map((node) => `${node.url}${APP}`);

    // (h) logout fan-out, with its Redis baseline taken just before
    const deadline = performance.now() + Math.max(120, seconds * 20) * 1000;
    const raw = await rawRedisDelivery(logoutRuns, deadline);
    const tokens = await newSessions(cluster, logoutRuns + LOGOUT_WARMUP_RUNS);
    const fanOut = await logoutFanOut(cluster, tokens, deadline);
    console.log(`  raw Redis PUBLISH → message over ${raw.length} runs: ${summary(raw)}`);
    console.log(
      `  logout on B → close on A and C over ${fanOut.samples.length} sockets (${fanOut.samples.length / 2} runs): ${summary(fanOut.samples)}; ${fanOut.lost} not closed within ${CLOSE_WAIT_MS} ms`,
    );
    record(
      `(h) logout on node B → socket close on nodes A and C, p99 ÷ raw Redis PUBLISH→message p99 (ms, ${fanOut.samples.length} sockets)`,
      percentile(fanOut.samples, 99),
      percentile(raw, 99),
      'p99 ≤ 250 ms',
      'ms',
    );

    // (m) the revocation window under load
    await measureRevocationWindow(cluster, logoutRuns, seconds, record);

    // (i), (j) GET /me, one token, on one node and spread over three
    const [token] = await newSessions(cluster, 1);
    const bearer = { authorization: `Bearer ${token!}` };
    // Every node's code is compiled hot before anything is timed: the three-node loads would
    // otherwise pay for two cold nodes that the one-node loads never meet.
    await spread(
      urls.map((url) => `${url}/me`),
      48,
      { headers: bearer, durationSeconds: WARMUP_SECONDS },
      'GET /me warm-up',
    );
    const me = await threeWay(
      rounds,
      async () => (await load({ url: `${bare.url}/me`, connections: 50, durationSeconds: seconds })).requestsPerSecond,
      () => spread([`${urls[0]!}/me`], 50, { headers: bearer, durationSeconds: seconds }, 'GET /me on 1 node'),
      () =>
        spread(
          urls.map((url) => `${url}/me`),
          50,
          { headers: bearer, durationSeconds: seconds },
          'GET /me on 3 nodes',
        ),
    );
    console.log(`  GET /me: 3 nodes ÷ 1 node = ${me.scaling.toFixed(3)}`);
    record(
      '(i) authenticated GET /me req/s, load on 1 of 3 nodes ÷ bare Fastify',
      me.one,
      me.baseline,
      'report',
      'req/s',
      me.oneRatio,
    );
    record(
      '(j) authenticated GET /me req/s, load spread over 3 nodes ÷ bare Fastify',
      me.three,
      me.baseline,
      'report',
      'req/s',
      me.threeRatio,
    );

    // (k), (l) password logins, one user, on one node and spread over three
    const json = { 'content-type': 'application/json', 'x-tessera-key': cluster.publishableKey };
    const email = `bench-logins-${randomBytes(4).toString('hex')}@example.com`;
    await call(
      `${urls[0]!}/users`,
      { method: 'POST', headers: json, body: JSON.stringify({ email, password: PASSWORD }) },
      201,
    );
    const loginLoad = {
      method: 'POST' as const,
      headers: json,
      body: JSON.stringify({ strategy: 'local', email, password: PASSWORD }),
      durationSeconds: seconds,
    };
    await spread(
      urls.map((url) => `${url}/authentication`),
      cores * 4,
      { ...loginLoad, durationSeconds: WARMUP_SECONDS },
      'login warm-up',
    );
    const logins = await threeWay(
      rounds,
      rawArgon2PerSecond,
      () => spread([`${urls[0]!}/authentication`], cores * 4, loginLoad, 'logins on 1 node'),
      () =>
        spread(
          urls.map((url) => `${url}/authentication`),
          cores * 4,
          loginLoad,
          'logins on 3 nodes',
        ),
    );
    console.log(`  logins: 3 nodes ÷ 1 node = ${logins.scaling.toFixed(3)}`);
    record(
      '(k) password logins/s, load on 1 of 3 nodes ÷ raw argon2id verifications/s',
      logins.one,
      logins.baseline,
      'report',
      'per s',
      logins.oneRatio,
    );
    record(
      '(l) password logins/s, load spread over 3 nodes ÷ raw argon2id verifications/s',
      logins.three,
      logins.baseline,
      'report',
      'per s',
      logins.threeRatio,
    );
  } finally {
    await Promise.all([cluster.close(), bare.stop()]);
  }
}
