import { ERROR_CODES, type ErrorCode } from '@tessera/protocol';

/**
 * Why `verify` refused a token, as Tessera itself would say it: `code` is one of Tessera's error
 * codes (`docs/errors.md`), `status` its HTTP status, `retryable` whether the same token may
 * pass later. `token_expired` tells the client to refresh its access token; `invalid_token` and
 * `session_revoked` that this token will never pass. The message never contains the token.
 *
 * @example
 * ```ts
 * try {
 *   await verifier.verify(token);
 * } catch (error) {
 *   if (error instanceof VerifierError) reply.code(error.status).send({ code: error.code, message: error.message });
 *   else throw error;
 * }
 * ```
 */
export class VerifierError extends Error {
  override readonly name = 'VerifierError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;

  constructor(code: ErrorCode, options: { message?: string; cause?: unknown } = {}) {
    const definition = ERROR_CODES[code];
    super(options.message ?? definition.message, options.cause === undefined ? {} : { cause: options.cause });
    this.code = code;
    this.status = definition.status;
    this.retryable = definition.retryable;
  }
}
