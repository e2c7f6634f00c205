/**
 * The one way Tessera asks another server for JSON (a JWKS URL, an OpenID provider, an app's
 * identity-provider webhook). Only a direct 200 counts: a redirect could take the request to a
 * host the admin never configured, so it is refused, not followed. The wait is bounded, and so is
 * the answer: its size is checked against the declared length and again while it streams.
 */

/** Why a request gave no usable JSON. `status` comes with the HTTP status it got instead of 200. */
export type FetchFailureReason = 'timeout' | 'network' | 'redirect' | 'status' | 'too_large' | 'not_json';

/** A request that gave no usable JSON; `reason` says why, in one vocabulary for every caller. */
export class FetchJsonError extends Error {
  override name = 'FetchJsonError';

  constructor(
    readonly reason: FetchFailureReason,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(status === undefined ? reason : `${reason} ${status}`, options);
  }
}

export interface FetchJsonRequest {
  url: string;
  /** GET by default; POST sends `body` as JSON. */
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Extra headers (the caller's own, which may hold secrets: never put in errors). */
  headers?: readonly { name: string; value: string }[];
  /** What the `accept` header asks for; `application/json` unless given. */
  accept?: string;
  timeoutMs: number;
  /** Answers larger than this are refused while they are read, not after. */
  maxBytes: number;
}

/** The parsed JSON of a 200 answer. Throws `FetchJsonError` for anything else. */
export async function fetchJson(request: FetchJsonRequest): Promise<unknown> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  let response: Response;
  try {
    response = await fetch(request.url, { ...requestInit(request), redirect: 'error', signal });
  } catch (error) {
    throw fetchFailure(error, signal);
  }
  if (response.status !== 200) {
    await discard(response);
    throw new FetchJsonError('status', response.status);
  }
  const body = await readCapped(response, request.maxBytes, signal);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch (error) {
    throw new FetchJsonError('not_json', undefined, { cause: error });
  }
}

function requestInit({ method = 'GET', body, headers = [], accept }: FetchJsonRequest): RequestInit {
  const all = new Headers(headers.map(({ name, value }): [string, string] => [name, value]));
  // Set after the caller's own: they describe what this module sends and reads.
  all.set('accept', accept ?? 'application/json');
  if (method === 'GET') return { method, headers: all };
  all.set('content-type', 'application/json');
  return { method, headers: all, body: JSON.stringify(body) };
}

/** Reads the body, but stops (and drops the connection's stream) as soon as it passes `limit` bytes. */
async function readCapped(response: Response, limit: number, signal: AbortSignal): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await discard(response);
    throw new FetchJsonError('too_large');
  }
  if (response.body === null) return new Uint8Array();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        throw new FetchJsonError('too_large');
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof FetchJsonError) throw error;
    throw fetchFailure(error, signal);
  }
  return Buffer.concat(chunks);
}

function fetchFailure(error: unknown, signal: AbortSignal): FetchJsonError {
  if (signal.aborted) return new FetchJsonError('timeout', undefined, { cause: error });
  // undici reports `redirect: 'error'` as "fetch failed" caused by "unexpected redirect".
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  if (/redirect/i.test(cause)) return new FetchJsonError('redirect', undefined, { cause: error });
  return new FetchJsonError('network', undefined, { cause: error });
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
