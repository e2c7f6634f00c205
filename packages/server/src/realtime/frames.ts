import { CLIENT_FRAME_SCHEMAS, type ClientFrame, type FrameId, type ServerFrame } from '@tessera/protocol';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RawData } from 'ws';
import { TesseraError } from '../errors.js';
import { validationDetails } from '../lib/validation-details.js';

// The same rules as REST bodies: JSON types are not coerced and unknown fields are an error.
const ajv = new Ajv({
  removeAdditional: false,
  useDefaults: false,
  allErrors: false,
  coerceTypes: false,
  strict: false,
});
const validators = new Map<string, ValidateFunction>(
  Object.entries(CLIENT_FRAME_SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)]),
);

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; error: TesseraError; id?: FrameId };

/**
 * Reads one client frame: JSON text, an object whose `type` is a known frame type, valid by
 * that type's schema in `protocol`. A bad frame yields the error to answer, with the frame's
 * `id` when one could be read.
 */
export function parseClientFrame(data: RawData, isBinary: boolean): ParsedFrame {
  if (isBinary)
    return { ok: false, error: new TesseraError('invalid_request', { message: 'Frames are JSON text, not binary.' }) };
  let value: unknown;
  try {
    value = JSON.parse(textOf(data));
  } catch {
    return { ok: false, error: new TesseraError('invalid_json', { message: 'The frame is not valid JSON.' }) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      error: new TesseraError('invalid_request', { message: 'A frame is a JSON object with a type.' }),
    };
  }
  const id = frameIdOf(value);
  const type = (value as { type?: unknown }).type;
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (validate === undefined) {
    return {
      ok: false,
      id,
      error: new TesseraError('invalid_request', {
        message: 'Unknown frame type.',
        details: [{ path: '/type', message: `must be one of ${[...validators.keys()].join(', ')}` }],
      }),
    };
  }
  if (!validate(value)) {
    const details = validationDetails(validate.errors ?? []);
    return { ok: false, id, error: new TesseraError('invalid_request', { details }) };
  }
  return { ok: true, frame: value as ClientFrame };
}

/** The answer's `id`: the client frame's, when it had one. */
export function withId<T extends ServerFrame>(frame: T, id: FrameId | undefined): T {
  return id === undefined ? frame : { ...frame, id };
}

export function errorFrame(error: TesseraError, id: FrameId | undefined): ServerFrame {
  return withId(
    {
      type: 'error',
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
    id,
  );
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function frameIdOf(value: object): FrameId | undefined {
  const id = (value as { id?: unknown }).id;
  if (typeof id === 'string' && id.length > 0 && id.length <= 64) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return undefined;
}
