import type { Static, TSchema } from 'typebox';
import Compile, { type Validator } from 'typebox/compile';
import { TesseraError } from '../errors.js';
import { validationDetails } from './validation-details.js';

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
  throw new TesseraError('invalid_request', { details: validationDetails(validator.Errors(value)) });
}

/** Whether a value matches a schema, for a caller that has no error to answer when it does not. */
export function matchesSchema<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return validatorOf(schema).Check(value);
}
