import { ERROR_CODES, isErrorCode, type ErrorCode } from '@tessera/protocol';

/**
 * Codes the client gives to failures that never reached a Tessera answer. They sit next to the
 * server's registry codes and never collide with them (the registry has no such keys).
 *
 * - `network_error`: no answer (offline, DNS, connection refused, CORS, aborted).
 * - `timeout`: no answer within the client's `requestTimeoutMs`.
 * - `invalid_response`: an answer that is not Tessera's JSON (a proxy's error page).
 * - `unknown_error`: a Tessera error code this version of the SDK does not know yet; the
 *   server's code is in `details.serverCode`.
 */
export type ClientErrorCode = 'network_error' | 'timeout' | 'invalid_response' | 'unknown_error';

/** Every code a {@link TesseraError} can carry: the server's registry, plus {@link ClientErrorCode}. */
export type TesseraErrorCode = ErrorCode | ClientErrorCode;

export interface TesseraErrorInit {
  message?: string;
  status?: number;
  retryable?: boolean;
  details?: unknown;
  /** Seconds the server asked to wait (`Retry-After`). */
  retryAfter?: number;
  cause?: unknown;
}

/**
 * The base of every error the client throws for a failed call. `code` is one of the stable
 * codes of Tessera's error registry (see `docs/errors.md`), so apps switch on it rather than on
 * messages.
 *
 * @example
 * ```ts
 * try {
 *   await client.connect('ada@example.com', 'wrong password');
 * } catch (error) {
 *   if (error instanceof TesseraError && error.code === 'invalid_credentials') showLoginError();
 *   else throw error;
 * }
 * ```
 */
export class TesseraError extends Error {
  override name = 'TesseraError';
  /** The stable error code. */
  readonly code: TesseraErrorCode;
  /** The HTTP status the server answered; 0 when no answer came. */
  readonly status: number;
  /** Whether the same call may succeed later, unchanged. */
  readonly retryable: boolean;
  /** The server's `details` (e.g. which field was wrong), when it sent some. */
  readonly details: unknown;
  /** Seconds to wait before retrying, when the server said (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(code: TesseraErrorCode, init: TesseraErrorInit = {}) {
    const known = isErrorCode(code) ? ERROR_CODES[code] : undefined;
    super(init.message ?? known?.message ?? code, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = init.status ?? known?.status ?? 0;
    this.retryable = init.retryable ?? known?.retryable ?? false;
    this.details = init.details;
    this.retryAfter = init.retryAfter;
  }
}

/** The request was malformed (400, 413, 415): fix the call, do not retry it. */
export class InvalidRequestError extends TesseraError {
  override name = 'InvalidRequestError';
}

/** The credentials were missing, wrong, expired or ended (401). */
export class AuthenticationError extends TesseraError {
  override name = 'AuthenticationError';
}

/** The credentials are valid but may not do this (403). */
export class PermissionError extends TesseraError {
  override name = 'PermissionError';
}

/** The app, user, session or route does not exist (404, 405). */
export class NotFoundError extends TesseraError {
  override name = 'NotFoundError';
}

/** The call conflicts with existing data, e.g. `user_exists` (409). */
export class ConflictError extends TesseraError {
  override name = 'ConflictError';
}

/** Too many requests or connections (429): wait `retryAfter` seconds. */
export class RateLimitError extends TesseraError {
  override name = 'RateLimitError';
}

/** The server or a service behind it failed or is busy (5xx). Usually retryable. */
export class ServerError extends TesseraError {
  override name = 'ServerError';
}

/** No answer came: offline, refused, timed out, or blocked by the browser. Retryable. */
export class NetworkError extends TesseraError {
  override name = 'NetworkError';
}

type ErrorClass = new (code: TesseraErrorCode, init?: TesseraErrorInit) => TesseraError;

function classOfStatus(status: number): ErrorClass {
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionError;
  if (status === 404 || status === 405) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 429) return RateLimitError;
  if (status >= 500) return ServerError;
  if (status >= 400) return InvalidRequestError;
  return TesseraError;
}

/**
 * The error for a registry code, of the class its HTTP status gives. Used for REST answers
 * and for the codes that close a realtime connection.
 *
 * @example
 * ```ts
 * const error = errorOfCode('session_revoked');
 * error instanceof AuthenticationError; // true
 * ```
 */
export function errorOfCode(code: string, init: TesseraErrorInit = {}): TesseraError {
  if (!isErrorCode(code)) {
    const status = init.status ?? 0;
    return new (classOfStatus(status))('unknown_error', {
      ...init,
      status,
      details: { serverCode: code, details: init.details },
    });
  }
  return new (classOfStatus(init.status ?? ERROR_CODES[code].status))(code, init);
}

const BY_CLOSE_CODE = new Map<number, ErrorCode>();
for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) BY_CLOSE_CODE.set(ERROR_CODES[code].closeCode, code);

/**
 * The registry code of a realtime close code (`4115` is `session_revoked`), or undefined for
 * close codes that are not Tessera's (network drops, `1000`).
 *
 * @example
 * ```ts
 * codeOfCloseCode(4115); // 'session_revoked'
 * codeOfCloseCode(1006); // undefined
 * ```
 */
export function codeOfCloseCode(closeCode: number): ErrorCode | undefined {
  return BY_CLOSE_CODE.get(closeCode);
}

/** Codes after which the session can never be used again: only a new login continues. */
const SESSION_ENDING: ReadonlySet<TesseraErrorCode> = new Set<TesseraErrorCode>([
  'session_expired',
  'session_revoked',
  'user_disabled',
  'reconnect_token_reused',
  'user_ended',
]);

/**
 * Whether an error means the session is over for good (expired, revoked, user disabled or
 * ended, reconnect token reused): retrying with the same credentials can never succeed.
 *
 * @example
 * ```ts
 * if (endsSession(error)) showLoginScreen();
 * ```
 */
export function endsSession(error: unknown): error is TesseraError {
  return error instanceof TesseraError && SESSION_ENDING.has(error.code);
}
