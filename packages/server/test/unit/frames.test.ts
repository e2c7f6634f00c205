import { CLIENT_FRAME_SCHEMAS, type ClientFrame } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import { errorFrame, parseClientFrame, withId, type ParsedFrame } from '../../src/realtime/frames.js';
import { TesseraError } from '../../src/errors.js';

/** A text frame as ws hands it over: one Buffer. */
const text = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

/** What a refusal answers the client: the error frame, with the id when one could be read. */
function refusal(parsed: ParsedFrame): unknown {
  if (parsed.ok) throw new Error(`expected a refusal, got ${JSON.stringify(parsed.frame)}`);
  return errorFrame(parsed.error, parsed.id);
}

const valid: Record<keyof typeof CLIENT_FRAME_SCHEMAS, ClientFrame[]> = {
  authenticate: [
    { type: 'authenticate', strategy: 'local', email: 'a@b.co', password: 'secret' },
    // The envelope only: each strategy checks its own fields.
    { type: 'authenticate', id: 7, strategy: 'anything', extra: true } as unknown as ClientFrame,
  ],
  refresh: [
    { type: 'refresh', reconnectToken: 'rt_x.y' },
    { type: 'refresh', id: 'r1', accessToken: 'a.b.c' },
  ],
  'presence.subscribe': [{ type: 'presence.subscribe' }, { type: 'presence.subscribe', id: 1, userIds: ['u1', 'u2'] }],
  'presence.unsubscribe': [{ type: 'presence.unsubscribe', id: 'x' }],
  'presence.query': [{ type: 'presence.query', userIds: ['u1'] }],
  ping: [{ type: 'ping' }, { type: 'ping', id: Number.MAX_SAFE_INTEGER }, { type: 'ping', id: 'x'.repeat(64) }],
};

describe('parseClientFrame (realtime/frames.ts)', () => {
  it.each(Object.entries(valid).flatMap(([type, frames]) => frames.map((frame) => [type, frame] as const)))(
    'takes a valid %s frame as it is',
    (_type, frame) => {
      expect(parseClientFrame(text(frame), false)).toEqual({ ok: true, frame });
    },
  );

  it('covers every client frame type of the protocol', () => {
    expect(Object.keys(valid).sort()).toEqual(Object.keys(CLIENT_FRAME_SCHEMAS).sort());
  });

  it('reads a fragmented message and an ArrayBuffer as the same text', () => {
    const json = JSON.stringify({ type: 'ping', id: 3 });
    const fragments = [Buffer.from(json.slice(0, 5)), Buffer.from(json.slice(5))];
    const bytes = Buffer.from(json);
    const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    expect(parseClientFrame(fragments, false)).toEqual({ ok: true, frame: { type: 'ping', id: 3 } });
    expect(parseClientFrame(arrayBuffer, false)).toEqual({ ok: true, frame: { type: 'ping', id: 3 } });
  });

  it('refuses a binary frame with invalid_request, whatever it holds', () => {
    expect(refusal(parseClientFrame(text({ type: 'ping', id: 1 }), true))).toEqual({
      type: 'error',
      code: 'invalid_request',
      message: 'Frames are JSON text, not binary.',
    });
  });

  it('refuses text that is not JSON with invalid_json', () => {
    for (const bad of ['{not json', '', '{"type":"ping"', 'ping'])
      expect(refusal(parseClientFrame(text(bad), false))).toEqual({
        type: 'error',
        code: 'invalid_json',
        message: 'The frame is not valid JSON.',
      });
  });

  it('refuses JSON that is not an object with invalid_request', () => {
    for (const bad of ['[{"type":"ping"}]', 'null', '42', '"ping"', 'true'])
      expect(refusal(parseClientFrame(text(bad), false))).toEqual({
        type: 'error',
        code: 'invalid_request',
        message: 'A frame is a JSON object with a type.',
      });
  });

  it('refuses an unknown or missing type, naming the known ones, with the id when it has one', () => {
    const unknownType = {
      type: 'error',
      code: 'invalid_request',
      message: 'Unknown frame type.',
      details: [
        {
          path: '/type',
          message:
            'must be one of authenticate, refresh, presence.subscribe, presence.unsubscribe, presence.query, ping',
        },
      ],
    };
    expect(refusal(parseClientFrame(text({ type: 'teleport', id: 'a' }), false))).toEqual({ ...unknownType, id: 'a' });
    expect(refusal(parseClientFrame(text({ id: 2 }), false))).toEqual({ ...unknownType, id: 2 });
    expect(refusal(parseClientFrame(text({ type: 5 }), false))).toEqual(unknownType);
    // A key of Object.prototype is not a frame type.
    expect(refusal(parseClientFrame(text({ type: 'constructor' }), false))).toEqual(unknownType);
  });

  it('refuses a frame its schema refuses, with the schema error as details', () => {
    const invalid = (details: unknown, id?: string | number) => ({
      type: 'error',
      code: 'invalid_request',
      message: 'The request does not match the expected schema.',
      details,
      ...(id === undefined ? {} : { id }),
    });
    expect(refusal(parseClientFrame(text({ type: 'ping', id: 1, extra: 1 }), false))).toEqual(
      invalid([{ path: '/', message: 'must NOT have additional properties' }], 1),
    );
    expect(refusal(parseClientFrame(text({ type: 'authenticate' }), false))).toEqual(
      invalid([{ path: '/', message: "must have required property 'strategy'" }]),
    );
    expect(refusal(parseClientFrame(text({ type: 'authenticate', strategy: '' }), false))).toEqual(
      invalid([{ path: '/strategy', message: 'must NOT have fewer than 1 characters' }]),
    );
    expect(refusal(parseClientFrame(text({ type: 'presence.query', userIds: ['u1', 'u1'] }), false))).toEqual(
      invalid([{ path: '/userIds', message: 'must NOT have duplicate items (items ## 1 and 0 are identical)' }]),
    );
    expect(refusal(parseClientFrame(text({ type: 'presence.subscribe', userIds: [7] }), false))).toEqual(
      invalid([{ path: '/userIds/0', message: 'must be string' }]),
    );
  });

  it('refuses a refresh with both tokens, or neither', () => {
    for (const frame of [
      { type: 'refresh', id: 'r', reconnectToken: 'a', accessToken: 'b' },
      { type: 'refresh', id: 'r' },
    ]) {
      const answer = refusal(parseClientFrame(text(frame), false));
      expect(answer).toMatchObject({ type: 'error', code: 'invalid_request', id: 'r' });
      expect((answer as { details: { path: string }[] }).details.at(-1)).toEqual({
        path: '/',
        message: 'must match exactly one schema in oneOf',
      });
    }
  });

  it('echoes only an id the protocol allows: a string of 1 to 64 characters, or a safe integer', () => {
    const idOf = (id: unknown) => {
      const parsed = parseClientFrame(text({ type: 'teleport', id }), false);
      return parsed.ok ? 'accepted' : parsed.id;
    };
    expect(idOf('x'.repeat(64))).toBe('x'.repeat(64));
    expect(idOf(-5)).toBe(-5);
    expect(idOf('')).toBeUndefined();
    expect(idOf('x'.repeat(65))).toBeUndefined();
    expect(idOf(1.5)).toBeUndefined();
    expect(idOf(2 ** 53)).toBeUndefined();
    expect(idOf({ n: 1 })).toBeUndefined();
  });

  it('refuses an id the schema does not allow, without echoing it', () => {
    const parsed = parseClientFrame(text({ type: 'ping', id: 'x'.repeat(65) }), false);
    expect(parsed).toMatchObject({ ok: false, id: undefined });
    expect(refusal(parsed)).toMatchObject({ code: 'invalid_request', details: [{ path: '/id' }] });
  });
});

describe('withId and errorFrame (realtime/frames.ts)', () => {
  it('adds the id only when there is one', () => {
    expect(withId({ type: 'pong', serverTime: 't' }, undefined)).toEqual({ type: 'pong', serverTime: 't' });
    expect(withId({ type: 'pong', serverTime: 't' }, 0)).toEqual({ type: 'pong', serverTime: 't', id: 0 });
  });

  it("says the error's code and message, and its details when it has some", () => {
    expect(errorFrame(new TesseraError('rate_limited'), 'q')).toEqual({
      type: 'error',
      code: 'rate_limited',
      message: new TesseraError('rate_limited').message,
      id: 'q',
    });
    expect(errorFrame(new TesseraError('not_anonymous', { details: { kind: 'guest' } }), undefined)).toEqual({
      type: 'error',
      code: 'not_anonymous',
      message: new TesseraError('not_anonymous').message,
      details: { kind: 'guest' },
    });
  });
});
