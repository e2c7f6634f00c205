import { ERROR_CODES, type ErrorEnvelope, type ErrorCode } from '@tessera/protocol';

export interface TesseraErrorOptions {
  message?: string;
  details?: unknown;
  /** Seconds the client should wait before retrying; sent as `Retry-After`. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * The one error type the server throws on purpose. Its `code` is a key of the protocol's
 * registry, which decides the HTTP status, the realtime close code and whether to retry.
 */
export class TesseraError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, options: TesseraErrorOptions = {}) {
    const definition = ERROR_CODES[code];
    super(options.message ?? definition.message, { cause: options.cause });
    this.name = 'TesseraError';
    this.code = code;
    this.status = definition.status;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The envelope alone; a REST answer adds Feathers' fields to it (http/errors.ts). */
  toBody(): ErrorEnvelope {
    return {
      error: {
        code: this.code,
        message: this.message,
        status: this.status,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}
