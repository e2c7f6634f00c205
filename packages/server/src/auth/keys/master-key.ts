import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const VERSION = 'v1';

/**
 * Encrypts secrets at rest (the apps' private signing keys, and the secrets inside app settings:
 * apps/sealed-settings.ts) with AES-256-GCM under the master key. The associated data binds a
 * ciphertext to its row, so a ciphertext copied onto another row does not decrypt.
 */
export class MasterKey {
  private constructor(private readonly key: Buffer) {}

  static fromBase64(encoded: string): MasterKey {
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES)
      throw new Error(`the master key must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
    return new MasterKey(key);
  }

  /**
   * Development only: reads `master.key` from the data folder, creating it on first use.
   * Returns whether the key was created now, so the caller can warn.
   */
  static fromDataDir(dataDir: string): { masterKey: MasterKey; created: boolean } {
    const file = join(dataDir, 'master.key');
    if (existsSync(file)) return { masterKey: MasterKey.fromBase64(readFileSync(file, 'utf8').trim()), created: false };
    mkdirSync(dataDir, { recursive: true });
    const encoded = randomBytes(KEY_BYTES).toString('base64');
    writeFileSync(file, `${encoded}\n`, { mode: 0o600, flag: 'wx' });
    return { masterKey: MasterKey.fromBase64(encoded), created: true };
  }

  /**
   * A key of its own for one purpose (HKDF-SHA256, the purpose as its info): the same on every
   * node that shares the master key, and unrelated to the key that encrypts, or to another
   * purpose's key.
   */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `tessera ${purpose}`, KEY_BYTES));
  }

  encrypt(plaintext: Buffer, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [
      VERSION,
      iv.toString('base64url'),
      ciphertext.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  decrypt(sealed: string, associatedData: string): Buffer {
    const [version, iv, ciphertext, tag] = sealed.split('.');
    if (version !== VERSION || iv === undefined || ciphertext === undefined || tag === undefined)
      throw new Error('unknown ciphertext format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  }
}
