import { readFileSync } from 'node:fs';
import { CLOSE_CODE_RANGES, ERROR_CODES, closeCodeAllowsReconnect } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import { renderConfigurationDoc, renderErrorsDoc } from '../scripts/docs.js';
import { loadConfig } from '../src/config/index.js';

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

describe('the deployment example environment (deploy/tessera.env.example)', () => {
  const example = readFileSync(new URL('../../../deploy/tessera.env.example', import.meta.url), 'utf8');
  const entries = example
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.split('=', 2) as [string, string]);

  it('names only settings that exist', () => {
    const reference = renderConfigurationDoc();
    for (const [name] of entries) expect(reference, name).toContain(`\`${name}\``);
  });

  it('is a valid configuration once the master key is filled in', () => {
    const env = Object.fromEntries(entries);
    env.TESSERA_MASTER_KEY = Buffer.alloc(32, 1).toString('base64');
    const config = loadConfig({ env });
    expect(config).toMatchObject({ mode: 'production', redisUrl: env.TESSERA_REDIS_URL, trustedProxies: '10.0.0.0/8' });
  });
});
