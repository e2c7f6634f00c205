import { readFileSync } from 'node:fs';
import { CLOSE_CODE_RANGES, ERROR_CODES, closeCodeAllowsReconnect } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import { renderConfigurationDoc, renderErrorsDoc } from '../scripts/docs.js';

const doc = (name: string) => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');

describe('the error registry', () => {
  it('is documented exactly as it is (run `npm run docs` after changing it)', () => {
    expect(doc('errors.md')).toBe(renderErrorsDoc());
  });

  it('gives every code its own close code, in the family its retry rule says', () => {
    const closeCodes = Object.values(ERROR_CODES).map((definition) => definition.closeCode);
    expect(new Set(closeCodes).size).toBe(closeCodes.length);
    for (const [code, definition] of Object.entries(ERROR_CODES)) {
      expect(definition.closeCode, code).toBeGreaterThanOrEqual(CLOSE_CODE_RANGES.reconnectAllowed.from);
      expect(definition.closeCode, code).toBeLessThanOrEqual(CLOSE_CODE_RANGES.doNotReconnect.to);
      if (definition.retryable) expect(closeCodeAllowsReconnect(definition.closeCode), code).toBe(true);
      expect(definition.status, code).toBeGreaterThanOrEqual(400);
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    }
  });
});

describe('the configuration reference', () => {
  it('is documented exactly as the schema says (run `npm run docs` after changing it)', () => {
    expect(doc('configuration.md')).toBe(renderConfigurationDoc());
  });
});
