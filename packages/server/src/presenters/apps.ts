import type { Scope } from '@tessera/protocol';
import { maskSecrets } from '../apps/secret-settings.js';
import { AppSettingsSchema } from '../apps/settings.js';
import { toIso, toIsoOrNull } from '../lib/clock.js';
import type { ApiKeyRecord, AppRecord } from '../store/repositories/index.js';

/** Settings leave masked: every field their schema marks secret (`secretString`) never leaves in full. */
export function presentApp(app: AppRecord) {
  return {
    id: app.id,
    namespace: app.namespace,
    name: app.name,
    path: app.path,
    createdAt: toIso(app.createdAt),
    sessionsRevokedBefore: toIsoOrNull(app.sessionsRevokedBefore),
    settings: maskSecrets(AppSettingsSchema, app.settings),
  };
}

/**
 * An API key's metadata; the key itself is shown only once, when it is created. `scopes` is
 * `null` for a full-access secret key and `[]` for a publishable key, which has none.
 */
export function presentKey(key: ApiKeyRecord) {
  return {
    id: key.id,
    kind: key.kind,
    label: key.label,
    createdAt: toIso(key.createdAt),
    revokedAt: toIsoOrNull(key.revokedAt),
    scopes: scopesOf(key),
  };
}

function scopesOf(key: ApiKeyRecord): Scope[] | null {
  if (key.kind === 'publishable') return [];
  return key.scopes === null ? null : [...key.scopes];
}
