import { readFileSync } from 'node:fs';
import { CLIENT_FRAME_SCHEMAS, ERROR_CODES, SERVER_FRAME_SCHEMAS, closeCodeAllowsReconnect } from '@tessera/protocol';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';

const doc = readFileSync(new URL('../../../../docs/realtime.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map(
  (match) => JSON.parse(match[1]!) as { type: string },
);
const ajv = addFormats.default(new Ajv({ strict: false, allErrors: true }));

describe('docs/realtime.md', () => {
  it('shows every client and server frame type', () => {
    const shown = new Set(examples.map((example) => example.type));
    for (const type of [...Object.keys(CLIENT_FRAME_SCHEMAS), ...Object.keys(SERVER_FRAME_SCHEMAS)])
      expect(shown, type).toContain(type);
  });

  it.each(examples.map((example, index) => [index, example.type, example] as const))(
    'example %i (%s) matches its schema in protocol',
    (_index, type, example) => {
      const schema = Object.hasOwn(CLIENT_FRAME_SCHEMAS, type)
        ? CLIENT_FRAME_SCHEMAS[type as keyof typeof CLIENT_FRAME_SCHEMAS]
        : SERVER_FRAME_SCHEMAS[type as keyof typeof SERVER_FRAME_SCHEMAS];
      expect(schema, type).toBeDefined();
      const validate = ajv.compile(schema);
      expect(validate(example) ? [] : validate.errors).toEqual([]);
    },
  );

  it('lists close codes as the registry has them, in the right family', () => {
    const rows = [...doc.matchAll(/^\| (\d{4}) \| `([a-z_]+)` \|/gm)];
    expect(rows.length).toBeGreaterThan(15);
    for (const [, closeCode, code] of rows) {
      expect(ERROR_CODES[code as keyof typeof ERROR_CODES]?.closeCode, code).toBe(Number(closeCode));
    }
    for (const code of ['authentication_timeout', 'server_shutdown', 'slow_consumer'] as const)
      expect(closeCodeAllowsReconnect(ERROR_CODES[code].closeCode)).toBe(true);
    for (const code of ['too_many_connections', 'frame_too_large', 'identity_mismatch'] as const)
      expect(closeCodeAllowsReconnect(ERROR_CODES[code].closeCode)).toBe(false);
  });
});
