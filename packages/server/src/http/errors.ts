import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError } from '../errors.js';
import { DATABASE_RETRY_AFTER_SECONDS, unavailableError } from '../store/errors.js';
import { validationDetails } from '../lib/validation-details.js';

/** Fastify's own errors, in the words of Tessera's registry. */
const FASTIFY_ERRORS: Record<string, () => TesseraError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new TesseraError('payload_too_large', { message: 'The request body is larger than 64 KiB.' }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new TesseraError('unsupported_media_type'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new TesseraError('invalid_request', { message: 'The Content-Length header does not match the body.' }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new TesseraError('invalid_json', { message: 'The request body is empty but its type is JSON.' }),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new TesseraError('invalid_json'),
};

/** The readiness probe's answer when the database does not answer, whatever the driver said. */
export function databaseNotAnswering(cause: unknown): TesseraError {
  return new TesseraError('unavailable', {
    message: 'The database does not answer.',
    retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    cause,
  });
}

/** Turns anything thrown while handling a request into the one error envelope. */
export function toTesseraError(error: unknown): TesseraError {
  if (error instanceof TesseraError) return error;
  const unavailable = unavailableError(error);
  if (unavailable !== undefined) return unavailable;
  const fastifyError = error as Partial<FastifyError> & { validationContext?: string };
  if (fastifyError.validation !== undefined) {
    const part = fastifyError.validationContext ?? 'body';
    return new TesseraError('invalid_request', {
      details: validationDetails(fastifyError.validation, { part, nameUnknownField: true }),
    });
  }
  const known = fastifyError.code === undefined ? undefined : FASTIFY_ERRORS[fastifyError.code];
  if (known !== undefined) return known();
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return new TesseraError('invalid_json');
  if (fastifyError.statusCode === 404) return new TesseraError('route_not_found');
  if (fastifyError.statusCode === 405) return new TesseraError('method_not_allowed');
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new TesseraError('invalid_request', { message: fastifyError.message });
  }
  return new TesseraError('internal_error', { cause: error });
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const tesseraError = toTesseraError(error);
  if (tesseraError.code === 'internal_error') request.log.error({ err: error }, 'request failed');
  else if (tesseraError.code === 'unavailable')
    request.log.warn({ err: tesseraError.cause ?? error }, 'request refused: a backing service is unavailable');
  else request.log.info({ code: tesseraError.code, status: tesseraError.status }, 'request refused');
  if (tesseraError.retryAfterSeconds !== undefined)
    void reply.header('retry-after', String(tesseraError.retryAfterSeconds));
  return reply.status(tesseraError.status).type('application/json').send(tesseraError.toBody());
}
