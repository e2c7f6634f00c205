import { execFile } from 'node:child_process';
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
  /** Requests per second across all connections; omit for as fast as possible. */
  overallRate?: number;
  /** Access tokens sent in turn as `authorization: Bearer …`, a different one on each request. */
  bearerTokens?: string[];
}

/** One request per token, in turn over every connection: many distinct users, not one token reused. */
function rotatingBearer(tokens: string[]): autocannon.Request[] {
  let next = 0;
  const setupRequest = (request: autocannon.Request): autocannon.Request => {
    const token = tokens[next]!;
    next = (next + 1) % tokens.length;
    return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
  };
  return [{ setupRequest }];
}

/** A bounded load from this process: fixed duration, loopback only. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.durationSeconds,
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    ...(options.bearerTokens === undefined ? {} : { requests: rotatingBearer(options.bearerTokens) }),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * The same load from a separate process. A background load (a login storm) must not share the
 * event loop of the client whose latency is measured: its 64 connections would delay that
 * client's own timestamps, and the figure would measure the load generator.
 */
export function loadInChildProcess(options: LoadOptions): Promise<LoadResult> {
  const script = new URL('./load-child.ts', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, JSON.stringify(options)],
      { timeout: (options.durationSeconds + 30) * 1000 },
      (error, stdout) => {
        if (error !== null) reject(new Error(`the load process failed: ${error.message}`));
        else resolve(JSON.parse(stdout) as LoadResult);
      },
    );
  });
}
