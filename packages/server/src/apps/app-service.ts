import type { Logger } from 'pino';
import { openChannel, type Channel, type ClusterBus } from '../cluster/index.js';
import { TesseraError } from '../errors.js';
import { BoundedCache } from '../lib/bounded-cache.js';
import type { Clock } from '../lib/clock.js';
import { uuidv7 } from '../lib/ids.js';
import type { MaybePromise } from '../lib/maybe-promise.js';
import { createOpaqueToken, parseOpaqueToken, secretMatches } from '../lib/opaque-token.js';
import { isUniqueViolation } from '../store/errors.js';
import type {
  AdminTokenRecord,
  ApiKeyKind,
  ApiKeyRecord,
  AppRecord,
  NamespaceRecord,
  Repositories,
} from '../store/repositories/index.js';
import type { SigningKeyService } from '../auth/keys/signing-keys.js';
import { checkedKeyScopes } from './key-scopes.js';
import { maskedSecretPointer } from './secret-settings.js';
import {
  AppSettingsError,
  AppSettingsSchema,
  assertWritableSettings,
  mergeSettings,
  parseAppSettings,
  type AppSettings,
  type AppSettingsPatch,
} from './settings.js';

/** Names of namespaces and apps: they appear in URLs and in token audiences. */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
const NAME = new RegExp(NAME_PATTERN);

export interface CreatedKey {
  key: ApiKeyRecord;
  /** The whole key. It is not stored and cannot be shown again. */
  token: string;
}

/** How many apps, keys and misses a node keeps (config `caches`), and for how long. */
export interface AppCacheLimits {
  ttlMs: number;
  apps: number;
  apiKeys: number;
  /** Unknown app paths, and unknown key ids, each. */
  misses: number;
}

/** A miss is kept this long at most: a client that repeats it reads the store once a second. */
const MISS_TTL_MS = 1000;

/** The bus channel on which nodes tell each other of changed apps and keys. */
const APPS_CHANNEL = 'apps';

/** An app (by path) or an API key (by id) changed: the other nodes drop what they hold of it. */
type AppsMessage = { app: string } | { key: string };

/**
 * Namespaces, apps, their API keys and the operators' admin tokens. App records and keys are
 * read on every request, so each node keeps them for `limits.ttlMs`; a change made through any
 * node applies at once on every node that hears the cluster bus. A node whose link is down
 * reads them from the database on every request, since it may have missed a revoked key.
 *
 * Paths and key ids come from outside, so the caches are bounded: the most recently used apps
 * and keys, and apart from them a second's worth of misses, so that made-up paths and ids cost
 * a bounded amount of memory and never push out the real ones.
 */
export class AppService {
  private readonly apps: BoundedCache<string, AppRecord>;
  private readonly keys: BoundedCache<string, ApiKeyRecord>;
  private readonly channel: Channel<AppsMessage>;

  constructor(
    private readonly repositories: Repositories,
    private readonly signingKeys: SigningKeyService,
    private readonly clock: Clock,
    limits: AppCacheLimits,
    bus: ClusterBus,
    logger: Logger,
  ) {
    const misses = {
      clock,
      ttlMs: limits.ttlMs,
      maxMisses: limits.misses,
      missTtlMs: Math.min(MISS_TTL_MS, limits.ttlMs),
    };
    this.apps = new BoundedCache({ ...misses, maxEntries: limits.apps });
    this.keys = new BoundedCache({ ...misses, maxEntries: limits.apiKeys });
    this.channel = openChannel<AppsMessage>(bus, APPS_CHANNEL, {
      logger,
      onMessage: (message) => {
        if ('app' in message) this.apps.delete(message.app);
        else this.keys.delete(message.key);
      },
      onLinkChange: () => {
        this.apps.clear();
        this.keys.clear();
      },
    });
  }

  async createNamespace(name: string): Promise<NamespaceRecord> {
    assertName(name, 'namespace');
    try {
      return await this.repositories.apps.insertNamespace({
        id: uuidv7(this.clock.now()),
        name,
        created_at: this.clock.now(),
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new TesseraError('namespace_exists');
      throw error;
    }
  }

  listNamespaces(): Promise<NamespaceRecord[]> {
    return this.repositories.apps.listNamespaces();
  }

  /** Creates an app with its first signing key. */
  async createApp(namespace: string, name: string, settings: unknown = {}): Promise<AppRecord> {
    assertName(name, 'app');
    assertNoMaskedSecret(settings);
    const owner = await this.repositories.apps.findNamespace(namespace);
    if (owner === undefined) throw new TesseraError('namespace_not_found');
    const now = this.clock.now();
    let app: AppRecord;
    try {
      const row = { id: uuidv7(now), namespace_id: owner.id, name, settings: validSettings(settings), created_at: now };
      app = await this.repositories.apps.insertApp(row, namespace);
    } catch (error) {
      if (isUniqueViolation(error)) throw new TesseraError('app_exists');
      throw error;
    }
    await this.signingKeys.rotate(app);
    this.appChanged(app.path);
    return app;
  }

  listApps(namespace?: string): Promise<AppRecord[]> {
    return this.repositories.apps.listApps(namespace);
  }

  /** The app at `namespace/name`, or `app_not_found`; synchronously when this node holds it. */
  getApp(namespace: string, name: string): MaybePromise<AppRecord> {
    const path = `${namespace}/${name}`;
    if (this.channel.connected) {
      const cached = this.apps.get(path);
      if (cached !== undefined) return cached;
      if (this.apps.isKnownMiss(path)) return found(undefined, path);
    }
    // Every app was created under valid names: a path that is not one is not looked up, nor kept.
    if (!NAME.test(namespace) || !NAME.test(name)) return found(undefined, path);
    const since = this.clock.now();
    return this.repositories.apps.findApp(namespace, name).then((value) => {
      this.remember(this.apps, path, value, since);
      return found(value, path);
    });
  }

  /** Merges the patch into the app's settings. A secret the patch leaves out keeps its value. */
  async updateSettings(app: AppRecord, patch: AppSettingsPatch): Promise<AppRecord> {
    assertNoMaskedSecret(patch);
    const settings = validSettings(mergeSettings(app.settings, patch));
    await this.repositories.apps.updateSettings(app.id, settings);
    this.appChanged(app.path);
    return { ...app, settings };
  }

  /**
   * Moves the app's session cut-off to `before` (never back) and tells every node at once, awaited
   * (the CLI exits right after). Returns the app with the cut-off in force.
   */
  async cutSessionsBefore(app: AppRecord, before: number): Promise<AppRecord> {
    const sessionsRevokedBefore = await this.repositories.apps.raiseSessionsRevokedBefore(app.id, before);
    this.apps.delete(app.path);
    // The change is in the database already; a node that misses this message reads it within its cache TTL.
    await this.channel.publish({ app: app.path });
    return { ...app, sessionsRevokedBefore };
  }

  /** Seals the secrets that app settings written before they were encrypted hold in clear; run at start-up. */
  sealPlaintextSecrets(): Promise<number> {
    return this.repositories.apps.sealPlaintextSecrets();
  }

  /**
   * Makes a key. A secret key made without `scopes` has full access; with them, only the calls
   * they allow (an unknown scope is refused with `invalid_request` naming it).
   */
  async createKey(
    app: AppRecord,
    kind: ApiKeyKind,
    label: string | null,
    scopes: readonly string[] | null = null,
  ): Promise<CreatedKey> {
    const checkedScopes = checkedKeyScopes(kind, scopes);
    const credential = createOpaqueToken(kind === 'publishable' ? 'pk' : 'sk');
    const key = await this.repositories.apiKeys.insert({
      id: credential.id,
      app_id: app.id,
      kind,
      label,
      secret_hash: credential.secretHash,
      created_at: this.clock.now(),
      scopes: checkedScopes,
    });
    return { key, token: credential.token };
  }

  listKeys(app: AppRecord): Promise<ApiKeyRecord[]> {
    return this.repositories.apiKeys.listForApp(app.id);
  }

  async revokeKey(app: AppRecord, keyId: string): Promise<void> {
    if (!(await this.repositories.apiKeys.revoke(app.id, keyId, this.clock.now())))
      throw new TesseraError('key_not_found');
    this.keys.delete(keyId);
    void this.channel.publish({ key: keyId });
  }

  /** Keeps what the store said (`undefined`: a miss), unless this node may be missing the bus's news. */
  private remember<T extends object>(
    cache: BoundedCache<string, T>,
    key: string,
    value: T | undefined,
    since: number,
  ): void {
    if (!this.channel.connected) return;
    if (value === undefined) cache.setMiss(key, { since });
    else cache.set(key, value, { since });
  }

  private appChanged(path: string): void {
    this.apps.delete(path);
    void this.channel.publish({ app: path });
  }

  /** The key a request presents, checked against the app it addresses. */
  async authenticateKey(app: AppRecord, token: string): Promise<ApiKeyRecord> {
    const parsed = parseOpaqueToken(token);
    if (parsed === null || (parsed.prefix !== 'pk' && parsed.prefix !== 'sk'))
      throw new TesseraError('invalid_api_key');
    const key = await this.findKey(parsed.id);
    const kindMatches = key?.kind === (parsed.prefix === 'pk' ? 'publishable' : 'secret');
    if (
      key === undefined ||
      !kindMatches ||
      key.appId !== app.id ||
      key.revokedAt !== null ||
      !secretMatches(parsed.secret, key.secretHash)
    ) {
      throw new TesseraError('invalid_api_key');
    }
    return key;
  }

  /** The key with this id, from this node's cache when it may trust it (a known miss included). */
  private async findKey(id: string): Promise<ApiKeyRecord | undefined> {
    if (this.channel.connected) {
      const cached = this.keys.get(id);
      if (cached !== undefined || this.keys.isKnownMiss(id)) return cached;
    }
    const since = this.clock.now();
    const stored = await this.repositories.apiKeys.findById(id);
    this.remember(this.keys, id, stored, since);
    return stored;
  }

  async createAdminToken(label: string | null): Promise<string> {
    const credential = createOpaqueToken('adm');
    await this.repositories.apiKeys.insertAdminToken({
      id: credential.id,
      label,
      secret_hash: credential.secretHash,
      created_at: this.clock.now(),
    });
    return credential.token;
  }

  async authenticateAdmin(token: string): Promise<AdminTokenRecord> {
    const parsed = parseOpaqueToken(token);
    const record = parsed?.prefix === 'adm' ? await this.repositories.apiKeys.findAdminToken(parsed.id) : undefined;
    if (
      parsed === null ||
      record === undefined ||
      record.revokedAt !== null ||
      !secretMatches(parsed.secret, record.secretHash)
    ) {
      throw new TesseraError('invalid_admin_token');
    }
    return record;
  }
}

function found(app: AppRecord | undefined, path: string): AppRecord {
  if (app === undefined) throw new TesseraError('app_not_found', { details: { app: path.slice(0, 130) } });
  return app;
}

function assertName(name: string, what: 'namespace' | 'app'): void {
  if (!NAME.test(name)) {
    throw new TesseraError('invalid_request', {
      message: `The ${what} name must be 1 to 63 lowercase letters, digits or dashes, starting with a letter or digit.`,
      details: [{ path: '/name', message: `must match ${NAME_PATTERN}` }],
    });
  }
}

/**
 * The admin API shows secrets masked. Settings read back and sent again would replace each
 * secret with its mask, so a masked value is refused: send the secret itself, or leave it out.
 */
function assertNoMaskedSecret(settings: unknown): void {
  const pointer = maskedSecretPointer(AppSettingsSchema, settings);
  if (pointer === undefined) return;
  const message = `${pointer.slice(1).replaceAll('/', '.')}: is the mask the admin API shows instead of the secret; send the secret itself`;
  throw new TesseraError('invalid_request', {
    message,
    details: [{ path: `/settings${pointer}`, message: 'masked secret' }],
  });
}

function validSettings(input: unknown): AppSettings {
  try {
    const settings = parseAppSettings(input);
    assertWritableSettings(settings);
    return settings;
  } catch (error) {
    if (error instanceof AppSettingsError)
      throw new TesseraError('invalid_request', {
        message: error.message,
        details: [{ path: '/settings', message: error.message }],
      });
    throw error;
  }
}
