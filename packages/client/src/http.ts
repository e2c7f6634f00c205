import { errorOfCode, NetworkError, ServerError } from './errors.js';

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface RequestOptions {
  body?: unknown;
  /** The app's publishable key, as X-Tessera-Key. */
  key?: string;
  /** An access token, as Authorization: Bearer. */
  token?: string;
}

/**
 * JSON over fetch to one app's REST base URL: every failure becomes a TesseraError
 * carrying the server's stable code, or a client code when no answer came.
 */
export class HttpTransport {
  constructor(
    private readonly baseUrl: string,
    private readonly fetch: FetchFunction,
    private readonly timeoutMs: number,
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.key !== undefined) headers['x-tessera-key'] = options.key;
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const controller = typeof AbortController === 'undefined' ? undefined : new AbortController();
    const timer = this.timeoutMs > 0 ? setTimeout(() => controller?.abort(), this.timeoutMs) : undefined;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(this.baseUrl + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: controller?.signal,
        // Tokens ride in headers, never in cookies.
        credentials: 'omit',
        cache: 'no-store',
      });
      text = await response.text();
    } catch (error) {
      const timedOut = controller?.signal.aborted === true;
      throw new NetworkError(timedOut ? 'timeout' : 'network_error', {
        message: timedOut ? `No answer from Tessera within ${this.timeoutMs} ms.` : 'Tessera could not be reached.',
        retryable: true,
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
    return parseAnswer<T>(response, text);
  }
}

function parseAnswer<T>(response: Response, text: string): T {
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok && body !== undefined) return body as T;
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null | undefined)
    ?.error;
  if (typeof error?.code !== 'string') {
    throw new ServerError('invalid_response', {
      status: response.status,
      retryable: response.status >= 500,
      message: `Tessera answered ${response.status} without its JSON error body.`,
    });
  }
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  throw errorOfCode(error.code, {
    status: response.status,
    message: typeof error.message === 'string' ? error.message : undefined,
    details: error.details,
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined,
  });
}
