import { TesseraError } from '../../../errors.js';

/** Why the identity provider gave no usable answer; sent as `details.reason` of `idp_unreachable`. */
export type UnreachableReason =
  | 'not_configured'
  | 'timeout'
  | 'network_error'
  | 'redirect'
  | 'bad_status'
  | 'too_large'
  | 'not_json'
  | 'missing_id'
  | 'invalid_field';

/** Statuses by which the identity provider says "this token is not valid". */
export const REJECTING_STATUSES: ReadonlySet<number> = new Set([401, 403, 404]);

export interface WebhookCall {
  url: string;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Static headers of the app's settings; may hold a secret, so they never appear in errors. */
  headers: readonly { name: string; value: string }[];
}

export function unreachable(reason: UnreachableReason, extra: Record<string, unknown> = {}): TesseraError {
  return new TesseraError('idp_unreachable', { details: { reason, ...extra } });
}

/**
 * Asks the app's identity provider about a token: POSTs `{ token }` as JSON and returns the
 * JSON object it answers with 200. 401, 403 and 404 mean the provider refused the token
 * (`idp_rejected`); anything else that is not a bounded JSON object within the timeout is
 * `idp_unreachable`. Redirects are refused: the provider's URL is the one the app configured.
 */
export async function askIdentityProvider(call: WebhookCall, token: string): Promise<Record<string, unknown>> {
  const signal = AbortSignal.timeout(call.timeoutMs);
  let response: Response;
  try {
    const headers = new Headers(call.headers.map(({ name, value }): [string, string] => [name, value]));
    headers.set('content-type', 'application/json');
    headers.set('accept', 'application/json');
    response = await fetch(call.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ token }),
      redirect: 'error',
      signal,
    });
  } catch (error) {
    throw unreachable(failureReason(error, signal));
  }
  if (response.status !== 200) {
    await discard(response);
    if (REJECTING_STATUSES.has(response.status))
      throw new TesseraError('idp_rejected', { details: { status: response.status } });
    throw unreachable('bad_status', { status: response.status });
  }
  const body = await readCapped(response, call.maxResponseBytes, signal);
  return parseObject(body);
}

function failureReason(error: unknown, signal: AbortSignal): UnreachableReason {
  if (signal.aborted) return 'timeout';
  // undici reports a refused redirect as "fetch failed" caused by "unexpected redirect".
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && /redirect/i.test(cause.message)) return 'redirect';
  return 'network_error';
}

/** Reads the body, but stops (and drops the connection's stream) as soon as it passes `limit` bytes. */
async function readCapped(response: Response, limit: number, signal: AbortSignal): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await discard(response);
    throw unreachable('too_large', { limit });
  }
  if (response.body === null) return new Uint8Array();
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        throw unreachable('too_large', { limit });
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw unreachable(failureReason(error, signal));
  }
  return Buffer.concat(chunks);
}

function parseObject(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw unreachable('not_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw unreachable('not_json', { message: 'the answer is not a JSON object' });
  return value as Record<string, unknown>;
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
