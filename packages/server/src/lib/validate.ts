import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';
import { TesseraError } from '../errors.js';

/** Checks a value against a schema; throws `invalid_request` naming each field at fault. */
export function parseWithSchema<T extends TSchema>(schema: T, value: unknown): Static<T> {
  const problems = Value.Errors(schema, value).slice(0, 10);
  if (problems.length === 0) return value as Static<T>;
  throw new TesseraError('invalid_request', {
    details: problems.map((problem) => ({ path: problem.instancePath || '/', message: problem.message })),
  });
}
