import Type, { type Static, type TSchema } from 'typebox';

/*
 * Building blocks of the wire schemas. Nullable fields and enums are written as JSON Schema type
 * lists and `enum`, not `anyOf`: fast-json-stringify serializes those directly, where an `anyOf`
 * makes it run a validator on every field of every answer to choose a branch.
 */

/** An ISO 8601 instant in UTC, as every timestamp on the wire is written. */
export const Timestamp = Type.String({ format: 'date-time' });

export function nullable<T extends TSchema & { type: string }>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });
}

export function oneOfStrings<const Values extends readonly string[]>(values: Values) {
  return Type.Unsafe<Values[number]>({ type: 'string', enum: values });
}

export const NullableString = nullable(Type.String());
