import { describe, expect, it } from 'vitest';
import { MasterKey } from '../../src/auth/keys/master-key.js';
import { createOpaqueToken, deriveOpaqueToken, parseOpaqueToken, secretMatches } from '../../src/lib/opaque-token.js';

// Issue 12: the CLI took a key id that began with a dash for an unknown option (`tessera key
// revoke acme/chat -Mh…`), once in 32 keys. Ids now begin with a letter or digit, made or derived.
describe('opaque token ids', () => {
  const key = MasterKey.fromBase64(Buffer.alloc(32, 1).toString('base64')).deriveKey('test');
  // With a leading '-' or '_' in 2 of 64 ids, 5,000 ids all clear of them by chance is about e^-156.
  const SAMPLES = 5000;

  it('never begin with a dash or an underscore, and stay well-formed', () => {
    const made = Array.from({ length: SAMPLES }, () => createOpaqueToken('sk'));
    const derived = Array.from({ length: SAMPLES }, (_, index) => deriveOpaqueToken('rt', key, `material ${index}`));
    for (const token of [...made, ...derived]) {
      expect(token.id).toMatch(/^[A-Za-z0-9]/);
      const parsed = parseOpaqueToken(token.token);
      expect(parsed?.id).toBe(token.id);
      expect(secretMatches(parsed!.secret, token.secretHash)).toBe(true);
    }
    expect(new Set(made.map((token) => token.id)).size).toBe(SAMPLES);
  });

  it('are read back whatever they begin with: keys made before keep working', () => {
    expect(parseOpaqueToken(`sk_-MhMWHOU0Kkikrjy.${'a'.repeat(43)}`)?.id).toBe('-MhMWHOU0Kkikrjy');
  });
});
