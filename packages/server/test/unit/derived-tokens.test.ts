import { describe, expect, it } from 'vitest';
import { MasterKey } from '../../src/auth/keys/master-key.js';
import { deriveOpaqueToken, parseOpaqueToken, secretMatches } from '../../src/lib/opaque-token.js';

const masterKey = MasterKey.fromBase64(Buffer.alloc(32, 1).toString('base64'));
const otherMasterKey = MasterKey.fromBase64(Buffer.alloc(32, 2).toString('base64'));

// Issue 12: a reconnect token's successor is derived, so that duplicates of one refresh agree on it.
describe('derived opaque tokens (issue 12)', () => {
  const key = masterKey.deriveKey('reconnect-token successors');

  it('are well-formed tokens whose stored hash matches their secret', () => {
    const derived = deriveOpaqueToken('rt', key, 'AAAAAAAAAAAAAAAA.secret');
    const parsed = parseOpaqueToken(derived.token);
    expect(parsed).toEqual({ prefix: 'rt', id: derived.id, secret: expect.any(String) });
    expect(secretMatches(parsed!.secret, derived.secretHash)).toBe(true);
  });

  it('are the same for the same key and material, and unrelated otherwise', () => {
    const one = deriveOpaqueToken('rt', key, 'AAAAAAAAAAAAAAAA.secret');
    expect(deriveOpaqueToken('rt', key, 'AAAAAAAAAAAAAAAA.secret')).toEqual(one);
    const others = [
      deriveOpaqueToken('rt', key, 'AAAAAAAAAAAAAAAA.secreT'),
      deriveOpaqueToken('rt', key, 'AAAAAAAAAAAAAAAB.secret'),
      deriveOpaqueToken('rt', otherMasterKey.deriveKey('reconnect-token successors'), 'AAAAAAAAAAAAAAAA.secret'),
      deriveOpaqueToken('rt', masterKey.deriveKey('another purpose'), 'AAAAAAAAAAAAAAAA.secret'),
    ];
    for (const other of others) {
      expect(other.id).not.toBe(one.id);
      expect(other.token).not.toBe(one.token);
    }
  });

  it('come from a key of their own: each purpose and each master key derives another, the same on every call', () => {
    const keys = [
      key,
      masterKey.deriveKey('another purpose'),
      otherMasterKey.deriveKey('reconnect-token successors'),
    ].map((derived) => derived.toString('hex'));
    expect(new Set(keys).size).toBe(3);
    expect(masterKey.deriveKey('reconnect-token successors').equals(key)).toBe(true);
    expect(key).toHaveLength(32);
  });
});
