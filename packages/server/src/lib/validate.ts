import type { Static, TSchema } from 'typebox';
import Compile, { type Validator } from 'typebox/compile';
import { TesseraError } from '../errors.js';

/** Compiled once per schema: checking a login's input must not interpret the schema on every request. */
const validators = new WeakMap<TSchema, Validator>();

function validatorOf(schema: TSchema): Validator {
  let validator = validators.get(schema);
  if (validator === undefined) validators.set(schema, (validator = Compile(schema)));
  return validator;
}

/** Checks a value against a schema; throws `invalid_request` naming each field at fault. */
export function parseWithSchema<T extends TSchema>(schema: T, value: unknown): Static<T> {
  const validator = validatorOf(schema);
  if (validator.Check(value)) return value as Static<T>;
  const problems = validator.Errors(value).slice(0, 10);
  throw new TesseraError('invalid_request', {
    details: problems.map((problem) => ({ path: problem.instancePath || '/', message: problem.message })),
  });
}

/** Whether a value matches a schema, for a caller that has no error to answer when it does not. */
export function matchesSchema<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return validatorOf(schema).Check(value);
}
