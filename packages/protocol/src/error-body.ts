import Type, { type Static } from 'typebox';
import type { ErrorCode } from './errors.js';

/** The JSON envelope of every error response. */
export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.Unsafe<ErrorCode>(Type.String()),
      message: Type.String(),
      status: Type.Integer(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: 'Every error has this shape; `code` is stable (see docs/errors.md).' },
);
/** The JSON envelope of every error response. */
export type ErrorBody = Static<typeof ErrorSchema>;
