import { createRequire } from 'node:module';
import type * as FeathersErrors from '@feathersjs/errors';
import { ERROR_CODES, ErrorSchema } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../src/errors.js';
import { errorAnswer, FEATHERS_CLASSES, feathersClassOf } from '../../src/http/errors.js';

const requireHere = createRequire(import.meta.url);
// The copy of @feathersjs/errors that Feathers' REST client throws from.
const errors = createRequire(requireHere.resolve('@feathersjs/rest-client'))(
  '@feathersjs/errors',
) as typeof FeathersErrors;

type FeathersClass = new () => FeathersErrors.FeathersError;

/** @feathersjs/errors' own table of classes by HTTP status. */
const theirClasses = Object.entries(errors.errors).filter(([key]) => /^\d+$/.test(key)) as [string, FeathersClass][];

describe('issue 14: the Feathers fields of a REST error answer', () => {
  it("names @feathersjs/errors' own class for each status it has one for", () => {
    expect(Object.keys(FEATHERS_CLASSES).sort()).toEqual(theirClasses.map(([status]) => status).sort());
    for (const [status, Class] of theirClasses) {
      const model = new Class();
      expect(feathersClassOf(Number(status)), status).toEqual({ name: model.name, className: model.className });
    }
  });

  it('gives every status of the registry a class: the nearest where Feathers has none', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(feathersClassOf(status).name, code).toMatch(/^[A-Z][A-Za-z]+$/);
    }
    expect(feathersClassOf(413)).toEqual({ name: 'BadRequest', className: 'bad-request' });
    expect(feathersClassOf(415)).toEqual({ name: 'BadRequest', className: 'bad-request' });
    expect(feathersClassOf(507)).toEqual({ name: 'GeneralError', className: 'general-error' });
  });

  it("is turned back into Feathers' class by Feathers' own convert, with Tessera's code in data", () => {
    const error = new TesseraError('weak_password', { details: { reason: 'too_short' } });
    const wire = JSON.parse(JSON.stringify(errorAnswer(error))) as object;
    const converted = errors.convert(wire) as FeathersErrors.FeathersError;
    expect(converted).toBeInstanceOf(errors.BadRequest);
    expect(converted.toJSON()).toEqual({
      name: 'BadRequest',
      message: ERROR_CODES.weak_password.message,
      code: 400,
      className: 'bad-request',
      data: { code: 'weak_password', details: { reason: 'too_short' } },
    });
  });

  it('says nothing the envelope does not, envelope first, in the order of the schema', () => {
    const cause = new Error('postgres://tessera:hunter2@db/tessera refused');
    const answer = errorAnswer(new TesseraError('internal_error', { cause }));
    expect(answer).toEqual({
      error: { code: 'internal_error', message: ERROR_CODES.internal_error.message, status: 500 },
      name: 'GeneralError',
      message: ERROR_CODES.internal_error.message,
      code: 500,
      className: 'general-error',
      data: { code: 'internal_error' },
    });
    expect(JSON.stringify(answer)).not.toContain('hunter2');
    // Fastify serializes a route's error answers by ErrorSchema, in its order: the same as this object's.
    expect(Object.keys(answer)).toEqual(Object.keys(ErrorSchema.properties));
  });
});
