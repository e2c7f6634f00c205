import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as client from '../src/index.js';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
};

describe('the public surface of @tessera/client', () => {
  it('is an explicit exports map, without wildcards', () => {
    expect(Object.keys(manifest.exports)).toEqual(['.', './browser', './package.json']);
    expect(JSON.stringify(manifest.exports)).not.toContain('*');
    const main = manifest.exports['.'] as Record<string, string>;
    expect(Object.keys(main)).toEqual(['tessera-source', 'types', 'default']);
    expect(existsSync(new URL(`../${main['tessera-source']}`, import.meta.url))).toBe(true);
  });

  it('depends on nothing but the protocol at runtime', () => {
    expect(Object.keys(manifest.dependencies)).toEqual(['@tessera/protocol']);
  });

  it('exports exactly these values; internals stay inside', () => {
    expect(Object.keys(client).sort()).toEqual(
      [
        'AuthenticationError',
        'ConflictError',
        'InvalidRequestError',
        'NetworkError',
        'NotFoundError',
        'PermissionError',
        'RateLimitError',
        'ServerError',
        'TesseraClient',
        'TesseraError',
        'broadcastChannelLock',
        'codeOfCloseCode',
        'createClient',
        'endsSession',
        'errorOfCode',
        'localStorageAdapter',
        'memoryStorage',
        'realmLock',
        'sessionStorageAdapter',
        'systemClock',
        'webLocksLock',
      ].sort(),
    );
  });
});
