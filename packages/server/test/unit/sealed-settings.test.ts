import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { SettingsSealer } from '../../src/apps/sealed-settings.js';
import { listSecrets, maskedSecretPointer, maskSecrets, secretString } from '../../src/apps/secret-settings.js';
import { parseAppSettings } from '../../src/apps/settings.js';
import { MasterKey } from '../../src/auth/keys/master-key.js';

// Issue 3 cleanup: the one mechanism for secrets inside app settings.

const masterKey = MasterKey.fromBase64(Buffer.alloc(32, 1).toString('base64'));
const otherKey = MasterKey.fromBase64(Buffer.alloc(32, 2).toString('base64'));
const SECRET = 'hmac-secret-of-the-issuer-0123456789abcdef';

const settings = () =>
  parseAppSettings({
    strategies: {
      jwt: { issuers: [{ id: 'hs', audience: 'a', secrets: [{ alg: 'HS256', secret: SECRET }] }] },
      custom: { headers: [{ name: 'X-Secret', value: 'abc' }] },
    },
  });

describe('secret settings', () => {
  it('finds marked fields through objects, arrays, unions and records, and nothing else', () => {
    const schema = Type.Object({
      plain: Type.String(),
      top: secretString(),
      list: Type.Array(Type.Object({ key: secretString(), name: Type.String() })),
      either: Type.Union([Type.Object({ inner: secretString() }), Type.Null()]),
      byName: Type.Record(Type.String(), secretString()),
    });
    const value = {
      plain: 'p',
      top: 't',
      list: [
        { key: 'k1', name: 'n' },
        { key: 'k2', name: 'n' },
      ],
      either: { inner: 'i' },
      byName: { a: 'r1', 'we/ird~': 'r2' },
    };
    expect(listSecrets(schema, value)).toEqual([
      { pointer: '/top', secret: 't' },
      { pointer: '/list/0/key', secret: 'k1' },
      { pointer: '/list/1/key', secret: 'k2' },
      { pointer: '/either/inner', secret: 'i' },
      { pointer: '/byName/a', secret: 'r1' },
      { pointer: '/byName/we~1ird~0', secret: 'r2' },
    ]);
    const masked = maskSecrets(schema, value);
    expect(masked).toEqual({
      ...value,
      top: '••••••••',
      list: [
        { key: '••••••••', name: 'n' },
        { key: '••••••••', name: 'n' },
      ],
      either: { inner: '••••••••' },
      byName: { a: '••••••••', 'we/ird~': '••••••••' },
    });
    // The input is left as it was.
    expect(value.top).toBe('t');
    expect(maskedSecretPointer(schema, value)).toBeUndefined();
    expect(maskedSecretPointer(schema, masked)).toBe('/top');
    expect(listSecrets(schema, { plain: 'p', either: null })).toEqual([]);
  });

  it('round-trips sealed settings, and binds each ciphertext to its app and its field', () => {
    const sealer = new SettingsSealer(masterKey);
    const stored = sealer.seal('app-1', settings());
    expect(stored).not.toContain(SECRET);
    expect(stored).not.toContain('"abc"');
    expect(sealer.holdsPlaintext(stored)).toBe(false);
    expect(sealer.open('app-1', stored)).toEqual(settings());

    expect(() => sealer.open('app-2', stored)).toThrow(/does not decrypt with this master key/);
    expect(() => new SettingsSealer(otherKey).open('app-1', stored)).toThrow(/TESSERA_MASTER_KEY/);
    // A ciphertext moved onto another field of the same app does not decrypt either.
    const document = JSON.parse(stored) as {
      strategies: { jwt: { issuers: { secrets: { secret: unknown }[] }[] }; custom: { headers: { value: unknown }[] } };
    };
    document.strategies.custom.headers[0]!.value = document.strategies.jwt.issuers[0]!.secrets[0]!.secret;
    expect(() => sealer.open('app-1', JSON.stringify(document))).toThrow(/\/strategies\/custom\/headers\/0\/value/);
  });

  it('reads secrets stored in clear, and seals them without touching the rest of the document', () => {
    const sealer = new SettingsSealer(masterKey);
    const legacy = JSON.stringify({
      publicSignup: false,
      strategies: { jwt: { issuers: [{ id: 'hs', audience: 'a', secrets: [{ alg: 'HS256', secret: SECRET }] }] } },
    });
    expect(sealer.holdsPlaintext(legacy)).toBe(true);
    expect(sealer.open('app-1', legacy).strategies.jwt.issuers[0]!.secrets![0]!.secret).toBe(SECRET);
    const sealed = sealer.sealStored('app-1', legacy);
    expect(sealed).not.toContain(SECRET);
    expect(sealer.holdsPlaintext(sealed)).toBe(false);
    expect(JSON.parse(sealed)).toMatchObject({
      publicSignup: false,
      strategies: { jwt: { issuers: [{ id: 'hs', audience: 'a' }] } },
    });
    expect(Object.keys(JSON.parse(sealed) as object)).toEqual(['publicSignup', 'strategies']);
    expect(sealer.open('app-1', sealed)).toEqual(sealer.open('app-1', legacy));
  });
});
