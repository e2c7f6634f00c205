/**
 * The verifier part of `npm run bench` (issue 15, item 6): `@tessera/verifier` as an app's own
 * server runs it (the built package), against baselines taken in the same run. Every server on
 * 127.0.0.1; Tessera runs as `tessera start` processes; every loop is bounded in count and time.
 *
 *   (v1) tokens verified per second by the verifier without its cache (cacheSize 0) ÷ jose's
 *        `jwtVerify` alone with a local JWK set built from the same JWKS, on the same
 *        BENCH_VERIFIER_TOKENS (default 1,000) real access tokens of distinct sessions
 *   (v2) the same with the verifier's verified-token cache
 *   (v3) heap of the verifier's revoked-session set per 100,000 revocations (BENCH_VERIFIER_REVOCATIONS),
 *        after full collections in a process of its own, ÷ the same number of session ids alone in a Set
 *   (v4) a logout on Tessera (REST `DELETE …/authentication`) → the close event of a socket of
 *        the app's own `ws` server (the verifier's upgrade handler, on the revocation feed),
 *        p99 over BENCH_LOGOUT_RUNS (default 200) on one node (SQLite), ÷ the p99 of Tessera's
 *        own realtime socket of the same session, closed by the same logout
 *   (v5) the same with Tessera on three nodes (PostgreSQL + Redis): the verifier streams from
 *        node A, the logout is made on node B, Tessera's own socket is on node A
 *
 * The measuring runs in ./verifier-child.mjs and the app server in ./verifier-app-server.mjs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { postgres } from '../test/helpers/backends.js';
import { startNode, type FirstRunCredentials, type NodeProcess } from '../test/helpers/node-process.js';
import { serverCommand } from './pinning.js';
import { handshake, percentile, type RecordFigure } from './realtime.js';

export interface VerifierBenchOptions {
  seconds: number;
  rounds: number;
  logoutRuns: number;
  record: RecordFigure;
}

const APP = 'demo/chat';
const APP_PATH = `/v1/apps/${APP}`;
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The issuer every node of the three signs with, as a load balancer's address would be; nothing connects to it. */
const CLUSTER_PUBLIC_URL = 'http://127.0.0.1:8080';
const TOKENS = Math.max(1, Number(process.env.BENCH_VERIFIER_TOKENS ?? 1000));
const REVOCATIONS = Math.max(1, Number(process.env.BENCH_VERIFIER_REVOCATIONS ?? 100_000));
/** Most verifications per measurement of (v1)/(v2), whatever the time bound. */
const MAX_VERIFICATIONS = 5_000_000;
const LOGOUT_WARMUP_RUNS = 5;
/** Longest wait for one socket's close: a close slower than this counts as lost. */
const CLOSE_WAIT_MS = 5000;
/** Longest a topology's logout runs may take in all. */
const LOGOUT_SECONDS = Number(process.env.BENCH_VERIFIER_LOGOUT_SECONDS ?? 180);
const REQUEST_TIMEOUT_MS = 30_000;
const MIB = 1024 * 1024;

type ChildReply = { type: string; message?: string } & Record<string, unknown>;

/** A script in a process of its own with an IPC channel (--expose-gc); one request at a time. */
class ChildScript {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts `script`; resolves with its `ready` message (or rejects with its `error`). */
  static async start(
    script: string,
    env: Record<string, string> = {},
  ): Promise<{ child: ChildScript; ready: ChildReply }> {
    const { command, args } = serverCommand(['--expose-gc', new URL(script, import.meta.url).pathname]);
    const child = new ChildScript(
      spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    try {
      return { child, ready: await child.reply('ready', 60_000) };
    } catch (error) {
      await child.stop();
      throw error;
    }
  }

  async ask<T>(message: { type: string } & Record<string, unknown>, timeoutMs: number): Promise<T> {
    const answer = this.reply(message.type, timeoutMs);
    this.child.send(message);
    return (await answer) as T;
  }

  /** The next message of `type`; rejects on an `error` message, on exit, or after `timeoutMs`. */
  reply(type: string, timeoutMs: number): Promise<ChildReply> {
    return new Promise((resolve, reject) => {
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        settle();
      };
      const onMessage = (message: ChildReply) => {
        if (message.type === 'error') done(() => reject(new Error(message.message)));
        else if (message.type === type) done(() => resolve(message));
      };
      const onExit = (code: number | null) => done(() => reject(new Error(`the bench child exited with ${code}`)));
      const timer = setTimeout(() => done(() => reject(new Error(`no ${type} answer in ${timeoutMs} ms`))), timeoutMs);
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** Tessera as the bench runs it: one node or three, demo/chat set up for anonymous logins. */
interface BenchTessera {
  nodes: NodeProcess[];
  /** The tokens' issuer base: the node's URL, or the cluster's public URL. */
  publicUrl: string;
  keys: FirstRunCredentials;
  close(): Promise<void>;
}

async function call(url: string, init: RequestInit, expected: number): Promise<unknown> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await response.text();
  if (response.status !== expected)
    throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${text}`);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

/** Anonymous logins on, without their per-address limit (every bench client is 127.0.0.1); tokens last an hour. */
async function prepareApp(node: NodeProcess, keys: FirstRunCredentials): Promise<void> {
  const settings = {
    accessTokenTtl: 3600,
    strategies: { anonymous: { enabled: true } },
    rateLimits: { anonymousLogin: { perAddress: 0, perApp: 0 } },
  };
  await call(
    `${node.url}/v1/admin/apps/${APP}`,
    {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.adminToken}` },
      body: JSON.stringify({ settings }),
    },
    200,
  );
}

async function startTessera(nodeCount: 1 | 3): Promise<BenchTessera> {
  const env = { TESSERA_LOG_LEVEL: 'warn' };
  const nodes: NodeProcess[] = [];
  let dispose: () => Promise<void>;
  let options: Parameters<typeof startNode>[0];
  if (nodeCount === 1) {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-verifier-'));
    options = { databaseUrl: `sqlite://${join(dataDir, 'tessera.db')}`, dataDir, env };
    dispose = () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true }));
  } else {
    const provisioned = await postgres(POSTGRES_URL).provision();
    dispose = provisioned.dispose;
    options = {
      databaseUrl: provisioned.databaseUrl!,
      redisUrl: REDIS_URL,
      dataDir: provisioned.dataDir,
      env: {
        ...env,
        TESSERA_PUBLIC_URL: CLUSTER_PUBLIC_URL,
        TESSERA_REDIS_KEY_PREFIX: `tessera-bench-verifier:${randomBytes(6).toString('hex')}:`,
      },
    };
  }
  const close = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await dispose();
  };
  try {
    nodes.push(await startNode(options));
    nodes.push(...(await Promise.all(Array.from({ length: nodeCount - 1 }, () => startNode(options)))));
    const keys = nodes[0]!.firstRun;
    if (keys === undefined) throw new Error(`the first node did not create ${APP}:\n${nodes[0]!.output()}`);
    await prepareApp(nodes[0]!, keys);
    return { nodes, publicUrl: nodeCount === 1 ? nodes[0]!.url : CLUSTER_PUBLIC_URL, keys, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function anonymousLogin(node: NodeProcess, publishableKey: string): Promise<string> {
  const answer = (await call(
    `${node.url}${APP_PATH}/authentication`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tessera-key': publishableKey },
      body: JSON.stringify({ strategy: 'anonymous' }),
    },
    201,
  )) as { accessToken: string };
  return answer.accessToken;
}

/** `count` access tokens of distinct sessions (and users), four logins at a time. */
async function newTokens(tessera: BenchTessera, count: number): Promise<string[]> {
  const tokens = new Array<string>(count);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < count; index = next++)
      tokens[index] = await anonymousLogin(tessera.nodes[0]!, tessera.keys.publishableKey);
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return tokens;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** (v1), (v2): verifications per second, jose alone and the verifier without and with its cache, alternated per round. */
async function measureThroughput(tessera: BenchTessera, options: VerifierBenchOptions): Promise<void> {
  const tokens = await newTokens(tessera, TOKENS);
  const { child } = await ChildScript.start('./verifier-child.mjs');
  try {
    const { rounds } = await child.ask<{ rounds: { jose: number; uncached: number; cached: number }[] }>(
      {
        type: 'throughput',
        url: tessera.nodes[0]!.url,
        publicUrl: tessera.publicUrl,
        app: APP,
        tokens,
        seconds: options.seconds,
        rounds: options.rounds,
        maxOps: MAX_VERIFICATIONS,
      },
      (options.seconds * 3 + 120) * options.rounds * 1000,
    );
    const line = (key: 'jose' | 'uncached' | 'cached') => rounds.map((round) => round[key].toFixed(0)).join(', ');
    console.log(
      `  verifications/s over ${tokens.length} tokens — jose alone: ${line('jose')}; verifier uncached: ${line('uncached')}; cached: ${line('cached')}`,
    );
    const jose = median(rounds.map((round) => round.jose));
    for (const [key, name, target] of [
      ['uncached', '(v1) @tessera/verifier tokens verified/s, uncached (cacheSize 0)', '—'],
      ['cached', '(v2) @tessera/verifier tokens verified/s, cached', '> 1'],
    ] as const)
      options.record(
        `${name} ÷ jose jwtVerify alone (${tokens.length} tokens)`,
        median(rounds.map((round) => round[key])),
        jose,
        target,
        'per s',
        median(rounds.map((round) => round[key] / round.jose)),
      );
  } finally {
    await child.stop();
  }
}

/** (v3): heap of the revoked-session set, fed by a stand-in event stream, in a process of its own. */
async function measureRevokedMemory(options: VerifierBenchOptions): Promise<void> {
  const { child } = await ChildScript.start('./verifier-child.mjs');
  try {
    const timeoutMs = 300_000;
    const memory = await child.ask<{
      before: number;
      after: number;
      setBytes: number;
      revokedCount: number;
      seconds: number;
      errors: string[];
    }>({ type: 'revokedMemory', count: REVOCATIONS, timeoutMs }, timeoutMs + 60_000);
    if (memory.revokedCount !== REVOCATIONS)
      throw new Error(
        `the verifier held ${memory.revokedCount} of ${REVOCATIONS} revocations: ${memory.errors.join('; ')}`,
      );
    const per100k = ((memory.after - memory.before) / REVOCATIONS) * 100_000;
    const setPer100k = (memory.setBytes / REVOCATIONS) * 100_000;
    console.log(
      `  ${REVOCATIONS} revocations applied in ${memory.seconds.toFixed(1)} s; heap used ${(memory.before / MIB).toFixed(1)} → ${(memory.after / MIB).toFixed(1)} MiB; ${(per100k / 100_000).toFixed(0)} B per revoked session; the ids alone in a Set ${(setPer100k / 100_000).toFixed(0)} B each`,
    );
    options.record(
      '(v3) verifier revoked-session set, heap per 100,000 revocations (MiB) ÷ the session ids alone in a Set',
      per100k / MIB,
      setPer100k / MIB,
      '—',
      'MiB',
    );
  } finally {
    await child.stop();
  }
}

/** The time of the socket's close event and its code, or undefined after CLOSE_WAIT_MS. */
function closeOf(ws: WebSocket): Promise<{ at: number; code: number } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), CLOSE_WAIT_MS);
    ws.once('close', (code: number) => {
      clearTimeout(timer);
      resolve({ at: performance.now(), code });
    });
  });
}

/** A socket of the app's own server with `token` at the upgrade, once its first frame came. */
function appSocket(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: { authorization: `Bearer ${token}` } });
    ws.once('message', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade answered ${response.statusCode}`)),
    );
  });
}

interface LogoutSamples {
  app: number[];
  tessera: number[];
  /** When the logout call itself was answered: part of both closes. */
  answered: number[];
  lost: number;
  wrongCodes: number;
}

/**
 * (v4), (v5): per run, a new session (logged in on the last node), a socket of the app's server
 * and one of Tessera's own gateway on node A, the logout on the second node (the only one when alone).
 */
async function logoutToClose(tessera: BenchTessera, runs: number): Promise<LogoutSamples> {
  const [a] = tessera.nodes;
  const logoutNode = tessera.nodes[1] ?? a!;
  const loginNode = tessera.nodes.at(-1)!;
  const { child: appServer, ready } = await ChildScript.start('./verifier-app-server.mjs', {
    BENCH_TESSERA_URL: a!.url,
    BENCH_TESSERA_PUBLIC_URL: tessera.publicUrl,
    BENCH_APP: APP,
    BENCH_SECRET_KEY: tessera.keys.secretKey,
  }).catch((error: unknown) => {
    throw new Error(`the app server did not start: ${(error as Error).message}`);
  });
  const url = String(ready.url);
  const samples: LogoutSamples = { app: [], tessera: [], answered: [], lost: 0, wrongCodes: 0 };
  try {
    const deadline = performance.now() + LOGOUT_SECONDS * 1000;
    for (let run = 0; run < runs + LOGOUT_WARMUP_RUNS && performance.now() < deadline; run += 1) {
      const token = await anonymousLogin(loginNode, tessera.keys.publishableKey);
      const sockets = await Promise.all([
        appSocket(url.replace(/^http/, 'ws'), token),
        handshake(`${a!.url.replace(/^http/, 'ws')}${APP_PATH}/realtime`, token),
      ]);
      const closes = sockets.map(closeOf);
      const started = performance.now();
      await call(
        `${logoutNode.url}${APP_PATH}/authentication`,
        { method: 'DELETE', headers: { authorization: `Bearer ${token}` } },
        200,
      );
      const answered = performance.now() - started;
      const [appClose, tesseraClose] = await Promise.all(closes);
      for (const ws of sockets) ws.terminate();
      if (run < LOGOUT_WARMUP_RUNS) continue;
      if (appClose === undefined || tesseraClose === undefined) samples.lost += 1;
      else {
        if (appClose.code !== 4115) samples.wrongCodes += 1;
        samples.app.push(appClose.at - started);
        samples.tessera.push(tesseraClose.at - started);
        samples.answered.push(answered);
      }
    }
    return samples;
  } finally {
    await appServer.stop();
  }
}

const summary = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(2)} ms, p99 ${percentile(values, 99).toFixed(2)} ms, max ${Math.max(...values).toFixed(2)} ms`;

async function measureLogouts(
  tessera: BenchTessera,
  label: string,
  figure: string,
  target: string,
  options: VerifierBenchOptions,
): Promise<void> {
  let samples: LogoutSamples;
  try {
    samples = await logoutToClose(tessera, options.logoutRuns);
  } catch (error) {
    // (v1)–(v3) stand without it: say why this one is missing rather than lose the others.
    console.log(`  ${figure} not measured (${label}): ${(error as Error).message}`);
    return;
  }
  console.log(
    `  ${label}, ${samples.app.length} runs — app server's socket (ws integration): ${summary(samples.app)}; Tessera's own socket: ${summary(samples.tessera)}; the logout's own answer: ${summary(samples.answered)}; ${samples.lost} not closed within ${CLOSE_WAIT_MS} ms; ${samples.wrongCodes} closed with another code than 4115`,
  );
  options.record(
    `${figure} logout → app server's socket closed (ws + verifier feed), p99 ÷ Tessera's own socket p99 (ms, ${samples.app.length} runs, ${label})`,
    percentile(samples.app, 99),
    percentile(samples.tessera, 99),
    target,
    'ms',
  );
}

export async function runVerifierBench(options: VerifierBenchOptions): Promise<void> {
  console.log(
    `method: verifier figures unpinned, on the built @tessera/verifier; Tessera as tessera start processes; ${TOKENS} tokens; ${REVOCATIONS} revocations; ${options.logoutRuns} logout runs per topology`,
  );
  const single = await startTessera(1);
  try {
    await measureThroughput(single, options);
    await measureRevokedMemory(options);
    await measureLogouts(single, 'one node (SQLite)', '(v4)', 'p99 ≤ 50 ms', options);
  } finally {
    await single.close();
  }
  const cluster = await startTessera(3);
  try {
    await measureLogouts(
      cluster,
      'three nodes (PostgreSQL + Redis), logout on B, verifier on A',
      '(v5)',
      'p99 ≤ 100 ms',
      options,
    );
  } finally {
    await cluster.close();
  }
}
