import type { Logger } from 'pino';
import { TesseraError } from '../../../errors.js';
import { fetchJson, FetchJsonError, type FetchFailureReason } from '../../remote/fetch-json.js';
import { loggableUrl } from '../../remote/outbound-url.js';

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

/** Where a failed call is reported: the strategy's logger, and the app whose webhook it is. */
export interface WebhookReport {
  logger: Logger;
  app: string;
}

export function unreachable(reason: UnreachableReason, extra: Record<string, unknown> = {}): TesseraError {
  return new TesseraError('idp_unreachable', { details: { reason, ...extra } });
}

/**
 * Asks the app's identity provider about a token: POSTs `{ token }` as JSON and returns the
 * JSON object it answers with 200. 401, 403 and 404 mean the provider refused the token
 * (`idp_rejected`); anything else that is not a bounded JSON object within the timeout is
 * `idp_unreachable`, and logged at `warn` as jwt's and oidc's failed key-set fetches are (never
 * the token, the headers, or the URL's query). Redirects are refused: the provider's URL is the
 * one the app configured.
 */
export async function askIdentityProvider(
  call: WebhookCall,
  token: string,
  report: WebhookReport,
): Promise<Record<string, unknown>> {
  let answer: unknown;
  try {
    answer = await fetchJson({
      url: call.url,
      method: 'POST',
      body: { token },
      headers: call.headers,
      timeoutMs: call.timeoutMs,
      maxBytes: call.maxResponseBytes,
    });
  } catch (error) {
    if (!(error instanceof FetchJsonError)) throw error;
    if (error.reason === 'status' && error.status !== undefined && REJECTING_STATUSES.has(error.status))
      throw new TesseraError('idp_rejected', { details: { status: error.status } });
    logFailure(report, call.url, error.reason, error.status);
    throw unreachableAfter(error, call.maxResponseBytes);
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    logFailure(report, call.url, 'not_json');
    throw unreachable('not_json', { message: 'the answer is not a JSON object' });
  }
  return answer as Record<string, unknown>;
}

function logFailure({ logger, app }: WebhookReport, url: string, reason: FetchFailureReason, status?: number): void {
  logger.warn(
    { app, strategy: 'custom', url: loggableUrl(url), reason, status },
    'identity provider webhook could not be used',
  );
}

/**
 * The reasons this strategy has always sent for a failed request: the same words as the fetch's,
 * except `network_error` and `bad_status`, kept for integrators (docs/login/custom.md).
 */
const WIRE_REASONS = {
  timeout: 'timeout',
  network: 'network_error',
  redirect: 'redirect',
  status: 'bad_status',
  too_large: 'too_large',
  not_json: 'not_json',
} as const satisfies Record<FetchFailureReason, UnreachableReason>;

function unreachableAfter(error: FetchJsonError, limit: number): TesseraError {
  const extra = error.reason === 'status' ? { status: error.status } : error.reason === 'too_large' ? { limit } : {};
  return unreachable(WIRE_REASONS[error.reason], extra);
}
