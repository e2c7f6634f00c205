import type { MasterKey } from '../auth/keys/master-key.js';
import { listSecrets, mapSecrets } from './secret-settings.js';
import { AppSettingsSchema, parseAppSettings, type AppSettings } from './settings.js';

/** How a secret of the settings is stored: its AES-256-GCM ciphertext under the master key. */
interface SealedSecret {
  sealed: string;
}

/**
 * Stores app settings with every secret the schema marks (`secretString`) encrypted under the
 * master key, the way signing keys are. A ciphertext is bound to its app and its field (the
 * associated data), so one copied onto another app or field does not decrypt. A sealed secret
 * is a JSON object where the schema has a string, so it is never mistaken for a secret in
 * clear, which documents written before secrets were encrypted still hold until `seal` runs.
 */
export class SettingsSealer {
  constructor(private readonly masterKey: MasterKey) {}

  /** The JSON to store for an app's settings. */
  seal(appId: string, settings: AppSettings): string {
    return JSON.stringify(
      mapSecrets(AppSettingsSchema, settings, (secret, pointer) =>
        typeof secret === 'string' ? this.sealOne(appId, pointer, secret) : secret,
      ),
    );
  }

  /** An app's settings from the stored JSON: secrets decrypted, defaults filled. */
  open(appId: string, stored: string): AppSettings {
    const document: unknown = JSON.parse(stored);
    return parseAppSettings(
      mapSecrets(AppSettingsSchema, document, (secret, pointer) =>
        isSealed(secret) ? this.decrypt(appId, pointer, secret) : secret,
      ),
    );
  }

  /** Whether the stored JSON holds a secret in clear (written before secrets were encrypted). */
  holdsPlaintext(stored: string): boolean {
    return listSecrets(AppSettingsSchema, JSON.parse(stored)).some(({ secret }) => typeof secret === 'string');
  }

  /**
   * The stored JSON with the secrets it holds in clear sealed, and nothing else changed: the
   * document is not parsed against the schema, so one that no longer fits it is still sealed.
   */
  sealStored(appId: string, stored: string): string {
    const document: unknown = JSON.parse(stored);
    return JSON.stringify(
      mapSecrets(AppSettingsSchema, document, (secret, pointer) =>
        typeof secret === 'string' ? this.sealOne(appId, pointer, secret) : secret,
      ),
    );
  }

  private sealOne(appId: string, pointer: string, secret: string): SealedSecret {
    return { sealed: this.masterKey.encrypt(Buffer.from(secret, 'utf8'), associatedData(appId, pointer)) };
  }

  private decrypt(appId: string, pointer: string, { sealed }: SealedSecret): string {
    try {
      return this.masterKey.decrypt(sealed, associatedData(appId, pointer)).toString('utf8');
    } catch {
      // Said plainly: the usual cause is a master key that is not the one the secret was stored with.
      throw new Error(
        `the settings of app ${appId} hold a secret (${pointer}) that does not decrypt with this master key; was TESSERA_MASTER_KEY changed?`,
      );
    }
  }
}

const associatedData = (appId: string, pointer: string): string => `app-settings:${appId}:${pointer}`;

function isSealed(value: unknown): value is SealedSecret {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { sealed?: unknown }).sealed === 'string'
  );
}
