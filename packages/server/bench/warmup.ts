/**
 * The warm-up of the REST figures (issue 16, item 1): before anything is timed, the server
 * serves a realistic mix for BENCH_WARMUP_SECONDS (default 20; 0 turns it off) — each of
 * `WARMUP_CLIENTS` clients in turn signs a new user up, logs in with the password, refreshes
 * with the reconnect token, reads GET /me and logs out — so that the figures are those of a
 * process that has had real traffic, not of a fresh one. Bounded in time and in cycles.
 */
const WARMUP_CLIENTS = 8;
/** At most this many cycles per second of warm-up, whatever the machine. */
const MAX_CYCLES_PER_SECOND = 1000;

export interface WarmupResult {
  cycles: number;
  requests: number;
  failures: number;
  statuses: Record<number, number>;
}

interface Credentials {
  accessToken: string;
  reconnectToken: string;
}

export async function warmUp(
  appUrl: string,
  publishableKey: string,
  password: string,
  seconds: number,
): Promise<WarmupResult> {
  const result: WarmupResult = { cycles: 0, requests: 0, failures: 0, statuses: {} };
  if (seconds <= 0) return result;
  const deadline = performance.now() + seconds * 1000;
  const maxCycles = seconds * MAX_CYCLES_PER_SECOND;
  let started = 0;
  const call = async (method: string, path: string, body?: object, token?: string): Promise<unknown> => {
    const response = await fetch(`${appUrl}${path}`, {
      method,
      headers: {
        'x-tessera-key': publishableKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    result.requests += 1;
    result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
    const text = await response.text();
    const answer: unknown = text === '' ? undefined : JSON.parse(text);
    if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}`);
    return answer;
  };
  const cycle = async (index: number): Promise<void> => {
    const email = `warmup-${index}-${process.pid}@example.com`;
    await call('POST', '/users', { email, password });
    const login = (await call('POST', '/authentication', { strategy: 'local', email, password })) as Credentials;
    const refreshed = (await call('POST', '/authentication', {
      strategy: 'reconnect',
      token: login.reconnectToken,
    })) as Credentials;
    await call('GET', '/me', undefined, refreshed.accessToken);
    await call('DELETE', '/authentication', undefined, refreshed.accessToken);
  };
  const client = async (): Promise<void> => {
    while (performance.now() < deadline && started < maxCycles) {
      const index = started++;
      try {
        await cycle(index);
        result.cycles += 1;
      } catch {
        result.failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: WARMUP_CLIENTS }, client));
  return result;
}
