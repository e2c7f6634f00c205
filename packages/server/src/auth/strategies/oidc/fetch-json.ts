/** Why a provider document could not be used; shown to the client in `idp_unreachable` details. */
export type FetchFailure = 'timeout' | 'network' | 'redirect' | 'status' | 'too_large' | 'not_json';

/** A provider request that gave no usable answer. */
export class ProviderFetchError extends Error {
  override name = 'ProviderFetchError';

  constructor(
    readonly reason: FetchFailure,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(status === undefined ? reason : `${reason} ${status}`, options);
  }
}

export interface FetchJsonOptions {
  timeoutMs: number;
  /** Answers larger than this are refused while they are read, not after. */
  maxBytes: number;
}

/**
 * GETs a JSON document from an OpenID provider. Only a direct 200 counts: a redirect could take
 * the request to a host the admin never configured, so it is an error rather than followed.
 */
export async function fetchJson(url: string, { timeoutMs, maxBytes }: FetchJsonOptions): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'error', signal, headers: { accept: 'application/json' } });
  } catch (error) {
    throw fetchFailure(error, signal);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProviderFetchError('status', response.status);
  }
  const text = await readLimited(response, maxBytes, signal);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProviderFetchError('not_json', undefined, { cause: error });
  }
}

async function readLimited(response: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProviderFetchError('too_large');
  }
  if (response.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ProviderFetchError('too_large');
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ProviderFetchError) throw error;
    throw fetchFailure(error, signal);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}

function fetchFailure(error: unknown, signal: AbortSignal): ProviderFetchError {
  if (signal.aborted) return new ProviderFetchError('timeout', undefined, { cause: error });
  // undici reports `redirect: 'error'` as a TypeError whose cause says "unexpected redirect".
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  if (/redirect/i.test(cause)) return new ProviderFetchError('redirect', undefined, { cause: error });
  return new ProviderFetchError('network', undefined, { cause: error });
}
