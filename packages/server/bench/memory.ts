/**
 * (n) Memory cannot be grown from outside: a real server (the realtime bench's server process:
 * the built server, --expose-gc, its memory reported over IPC after full collections) takes
 * 200,000 requests that name made-up things, half of them a made-up app path, half a made-up
 * `pk_`/`sk_` API key of the demo app; its heap and RSS are read at 0, 50k, 100k, 150k and 200k.
 * Every cache they touch is bounded, so both stay flat once the caches are full. The figure is
 * the heap after 200k ÷ the heap after 50k (target ≤ 1.1). Loopback only; each step is bounded
 * in count (BENCH_MEMORY_REQUESTS / 4) and in time (BENCH_MEMORY_STEP_SECONDS, default 120).
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { BenchProcess, type BenchMemory } from './ipc.js';

const STEPS = 4;

interface Options {
  requests: number;
  stepSeconds: number;
  record: (name: string, value: number, baseline: number, target: string, unit: string) => void;
}

const MIB = 1024 * 1024;

/** A valid but made-up namespace or app name: the server looks it up (names that could not be are refused sooner). */
const madeUpName = () => `x${randomBytes(8).toString('hex')}`;
const madeUpKey = (prefix: 'pk' | 'sk') =>
  `${prefix}_${randomBytes(12).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

/** One made-up thing per request, in turn an app path, a publishable key, an app path, a secret key. */
function madeUpRequest(request: autocannon.Request, sent: { count: number }): autocannon.Request {
  sent.count += 1;
  if (sent.count % 2 === 0)
    return {
      ...request,
      method: 'GET',
      headers: {},
      path: `/v1/apps/${madeUpName()}/${madeUpName()}/.well-known/jwks.json`,
    };
  return {
    ...request,
    method: 'GET',
    headers: { 'x-tessera-key': madeUpKey(sent.count % 4 === 1 ? 'pk' : 'sk') },
    path: '/v1/apps/demo/chat/users',
  };
}

/** Sends `amount` requests from 32 connections, or fewer if `seconds` pass first. */
function send(
  url: string,
  amount: number,
  seconds: number,
): Promise<{ sent: number; statuses: Record<string, number>; errors: number }> {
  const sent = { count: 0 };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: 32,
        amount,
        requests: [{ setupRequest: (request: autocannon.Request) => madeUpRequest(request, sent) }],
      },
      (error, result) => {
        clearTimeout(deadline);
        if (error !== null && error !== undefined) reject(error instanceof Error ? error : new Error(String(error)));
        else
          resolve({
            sent: result.requests.sent,
            statuses: statusCounts(result),
            errors: result.errors + result.timeouts,
          });
      },
    );
    const deadline = setTimeout(() => instance.stop(), seconds * 1000);
  });
}

function statusCounts(result: autocannon.Result): Record<string, number> {
  return { '2xx': result['2xx'], '4xx': result['4xx'], '5xx': result['5xx'] };
}

const mib = (bytes: number) => (bytes / MIB).toFixed(1);

export async function runMemoryBench({ requests, stepSeconds, record }: Options): Promise<void> {
  const server = await BenchProcess.start('./realtime-server.mjs');
  try {
    const readings: { requests: number; memory: BenchMemory }[] = [
      { requests: 0, memory: (await server.memory()).memory },
    ];
    let total = 0;
    for (let step = 1; step <= STEPS; step += 1) {
      const result = await send(server.url, Math.floor(requests / STEPS), stepSeconds);
      total += result.sent;
      console.log(
        `  step ${step}: ${result.sent} sent; ${result.statuses['4xx']} answered 4xx (expected: 404 app_not_found, 401 invalid_api_key), ${result.statuses['5xx']} 5xx, ${result.errors} errors`,
      );
      readings.push({ requests: total, memory: (await server.memory()).memory });
    }
    console.log('  requests to made-up app paths and keys → heap used / RSS after GC (MiB):');
    for (const { requests: count, memory } of readings)
      console.log(`    ${String(count).padStart(7)}: heap ${mib(memory.heapUsed)}, rss ${mib(memory.rss)}`);
    const afterFirstStep = readings[1]!.memory.heapUsed;
    const last = readings[readings.length - 1]!;
    record(
      `(n) heap used after ${last.requests} requests to made-up paths and keys ÷ after ${readings[1]!.requests} (MiB)`,
      last.memory.heapUsed / MIB,
      afterFirstStep / MIB,
      '≤ 1.1',
      'MiB',
    );
  } finally {
    await server.stop();
  }
}
