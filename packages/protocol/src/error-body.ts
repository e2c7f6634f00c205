import Type, { type Static } from 'typebox';
import type { ErrorCode } from './errors.js';

const ErrorCodeSchema = Type.Unsafe<ErrorCode>(Type.String());
const DetailsSchema = Type.Optional(Type.Unknown());

/** Tessera's own error envelope; a refused WebSocket upgrade answers it alone. */
export const ErrorEnvelopeSchema = Type.Object({
  error: Type.Object({
    code: ErrorCodeSchema,
    message: Type.String(),
    status: Type.Integer(),
    details: DetailsSchema,
  }),
});
/** Tessera's own error envelope: `{ error: { code, message, status, details? } }`. */
export type ErrorEnvelope = Static<typeof ErrorEnvelopeSchema>;

/**
 * Every REST error answer: the envelope, then the same error in the fields of @feathersjs/errors'
 * `toJSON()`, so that Feathers' REST client rebuilds its own error class (see docs/errors.md).
 */
export const ErrorSchema = Type.Object(
  {
    ...ErrorEnvelopeSchema.properties,
    name: Type.String({ description: "Feathers' error class for the status, e.g. `NotAuthenticated`." }),
    message: Type.String({ description: 'The same as `error.message`.' }),
    code: Type.Integer({ description: "The HTTP status, as Feathers' `code`; `error.code` is Tessera's code." }),
    className: Type.String({ description: "Feathers' class name in kebab case, e.g. `not-authenticated`." }),
    data: Type.Object(
      { code: ErrorCodeSchema, details: DetailsSchema },
      { description: "Tessera's code, and `details` when the envelope has them." },
    ),
  },
  { description: 'Every error has this shape; `error.code` is stable (see docs/errors.md).' },
);
/** Every REST error answer: Tessera's envelope and Feathers' fields. */
export type ErrorBody = Static<typeof ErrorSchema>;
