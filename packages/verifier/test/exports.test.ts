import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as verifier from '../src/index.js';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
};

// issue 15: @tessera/verifier's public surface is a whitelist.
describe('the public surface of @tessera/verifier', () => {
  it('is an explicit exports map, without wildcards', () => {
    expect(Object.keys(manifest.exports)).toEqual(['.', './package.json']);
    expect(JSON.stringify(manifest.exports)).not.toContain('*');
    const main = manifest.exports['.'] as Record<string, string>;
    expect(Object.keys(main)).toEqual(['tessera-source', 'types', 'default']);
    expect(existsSync(new URL(`../${main['tessera-source']}`, import.meta.url))).toBe(true);
  });

  it('depends on jose and the protocol only', () => {
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@tessera/protocol', 'jose']);
  });

  it('exports exactly these values; internals stay inside', () => {
    expect(Object.keys(verifier).sort()).toEqual(['VerifierError', 'createVerifier']);
  });
});
