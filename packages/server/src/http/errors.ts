import type { ErrorBody } from '@tessera/protocol';
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
  // Raised by the router before any route (through the `frameworkErrors` option); the path is not repeated.
  FST_ERR_BAD_URL: () => new TesseraError('invalid_request', { message: 'The URL is not validly percent-encoded.' }),
  FST_ERR_MAX_PARAM_LENGTH: () => new TesseraError('invalid_request', { message: 'A part of the URL is too long.' }),
};

/** A class of @feathersjs/errors, by the two names its `toJSON()` gives. */
export interface FeathersErrorClass {
  readonly name: string;
  readonly className: string;
}

const feathersClass = (name: string, className: string): FeathersErrorClass => ({ name, className });
const BAD_REQUEST = feathersClass('BadRequest', 'bad-request');
const GENERAL_ERROR = feathersClass('GeneralError', 'general-error');

/** @feathersjs/errors' classes by HTTP status, as its own `errors` table lists them (v5). */
export const FEATHERS_CLASSES: Readonly<Record<number, FeathersErrorClass>> = {
  400: BAD_REQUEST,
  401: feathersClass('NotAuthenticated', 'not-authenticated'),
  402: feathersClass('PaymentError', 'payment-error'),
  403: feathersClass('Forbidden', 'forbidden'),
  404: feathersClass('NotFound', 'not-found'),
  405: feathersClass('MethodNotAllowed', 'method-not-allowed'),
  406: feathersClass('NotAcceptable', 'not-acceptable'),
  408: feathersClass('Timeout', 'timeout'),
  409: feathersClass('Conflict', 'conflict'),
  410: feathersClass('Gone', 'gone'),
  411: feathersClass('LengthRequired', 'length-required'),
  422: feathersClass('Unprocessable', 'unprocessable'),
  429: feathersClass('TooManyRequests', 'too-many-requests'),
  500: GENERAL_ERROR,
  501: feathersClass('NotImplemented', 'not-implemented'),
  502: feathersClass('BadGateway', 'bad-gateway'),
  503: feathersClass('Unavailable', 'unavailable'),
};

/**
 * Feathers' class for a status. A status Feathers has no class for (413, 415) takes the nearest:
 * BadRequest for a client error (the request as sent is wrong), GeneralError for a server error.
 * The answer's `code` still says the real status.
 */
export function feathersClassOf(status: number): FeathersErrorClass {
  return FEATHERS_CLASSES[status] ?? (status < 500 ? BAD_REQUEST : GENERAL_ERROR);
}

/**
 * The body of every REST error answer: Tessera's envelope first, then the same error as
 * @feathersjs/errors serializes one, with Tessera's code (and details) in `data`. Nothing is
 * said here that the envelope does not already say.
 */
export function errorAnswer(error: TesseraError): ErrorBody {
  const { name, className } = feathersClassOf(error.status);
  return {
    ...error.toBody(),
    name,
    message: error.message,
    code: error.status,
    className,
    data: { code: error.code, ...(error.details === undefined ? {} : { details: error.details }) },
  };
}

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
  return reply.status(tesseraError.status).type('application/json').send(errorAnswer(tesseraError));
}
