import { ERROR_CODES, type ErrorCode } from '@tessera/protocol';
import type { RevocationReason } from '../auth/sessions/revocations.js';
import { TesseraError } from '../errors.js';
import { unavailableError } from '../store/errors.js';

/** Why the server closes a connection: a code of the error registry, and maybe a word more. */
export interface CloseCause {
  code: ErrorCode;
  /** A short machine-readable detail, e.g. the revocation reason of `session_revoked`. */
  detail?: string;
}

/** The close frame's reason may hold 123 bytes (RFC 6455 §5.5). */
const MAX_REASON_BYTES = 123;

/** The close code and reason of a cause: the registry's close code, and `code` or `code:detail`. */
export function closeFrameOf(cause: CloseCause): { closeCode: number; reason: string } {
  const reason = cause.detail === undefined ? cause.code : `${cause.code}:${cause.detail}`;
  return {
    closeCode: ERROR_CODES[cause.code].closeCode,
    reason: Buffer.byteLength(reason) <= MAX_REASON_BYTES ? reason : cause.code,
  };
}

/**
 * A thrown error in the registry's words: a TesseraError as it is, an unreachable database as
 * `unavailable` (retryable), anything else an internal error.
 */
export function asTesseraError(error: unknown): TesseraError {
  if (error instanceof TesseraError) return error;
  return unavailableError(error) ?? new TesseraError('internal_error', { cause: error });
}

/** The cause of a thrown error (see `asTesseraError`). */
export function causeOf(thrown: unknown): CloseCause {
  const error = asTesseraError(thrown);
  const reason = (error.details as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? { code: error.code, detail: reason } : { code: error.code };
}

/**
 * How each revocation closes the sockets of the sessions it ended: the same code a REST call
 * with those sessions' tokens answers from then on.
 */
export function revocationCause(reason: RevocationReason): CloseCause {
  switch (reason) {
    case 'user_disabled':
      return { code: 'user_disabled' };
    case 'reconnect_token_reused':
      return { code: 'reconnect_token_reused' };
    case 'user_ended':
      return { code: 'user_ended' };
    case 'logout':
    case 'revoked':
    case 'password_changed':
    case 'user_deleted':
    case 'user_upgraded':
    case 'revoked_before':
      return { code: 'session_revoked', detail: reason };
  }
}
