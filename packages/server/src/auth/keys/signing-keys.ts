import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { AppEventLog } from '../../events/append.js';
import type { AppRecord, Repositories, SigningKeyRecord } from '../../store/repositories/index.js';
import type { SigningKeysRepository } from '../../store/repositories/signing-keys.js';
import { BoundedCache } from '../../lib/bounded-cache.js';
import type { Clock } from '../../lib/clock.js';
import { uuidv7 } from '../../lib/ids.js';
import type { MasterKey } from './master-key.js';

export type SigningAlgorithm = 'EdDSA' | 'ES256';

export interface Signer {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
}

interface VerificationKey {
  alg: SigningAlgorithm;
  publicKey: KeyObject;
}

interface AppKeys {
  signer: Signer | undefined;
  verifiers: Map<string, VerificationKey>;
  jwks: { keys: JWK[] };
}

/** Where a rotation writes its `signing_key.rotated` event, in the rotation's transaction. */
export interface RotationEvents {
  repositories: Repositories;
  log: AppEventLog;
}

/** Tokens outlive a rotation by this much on top of their lifetime, for clock skew. */
const ROTATION_SKEW_MS = 60_000;

/**
 * The apps' signing keys. Keys are read once and cached, for the `maxApps` most recently used
 * apps; the cache is re-read after `refreshMs` (so a rotation made by another node or by the
 * CLI is seen) and at once when a token names a key id this node has not seen.
 */
export class SigningKeyService {
  private readonly cache: BoundedCache<string, AppKeys>;
  private readonly events: RotationEvents | undefined;

  constructor(
    private readonly repository: SigningKeysRepository,
    private readonly masterKey: MasterKey,
    private readonly clock: Clock,
    {
      refreshMs = 30_000,
      maxApps = 10_000,
      events,
    }: { refreshMs?: number; maxApps?: number; events?: RotationEvents } = {},
  ) {
    this.events = events;
    this.cache = new BoundedCache({ clock, maxEntries: maxApps, ttlMs: refreshMs });
  }

  async signer(app: AppRecord): Promise<Signer> {
    const keys = await this.load(app);
    if (keys.signer !== undefined) return keys.signer;
    await this.rotate(app);
    const rotated = (await this.load(app, true)).signer;
    if (rotated === undefined) throw new Error(`app ${app.path} has no signing key after rotation`);
    return rotated;
  }

  async verificationKey(app: AppRecord, kid: string): Promise<VerificationKey | undefined> {
    const keys = await this.load(app);
    return keys.verifiers.get(kid) ?? (await this.load(app, true)).verifiers.get(kid);
  }

  async jwks(app: AppRecord): Promise<{ keys: JWK[] }> {
    return (await this.load(app)).jwks;
  }

  /** Makes a new current key. The previous one verifies until the tokens it signed have expired. */
  async rotate(app: AppRecord): Promise<string> {
    const now = this.clock.now();
    const kid = uuidv7(now);
    const alg = app.settings.signingAlgorithm;
    const { privateKey, publicKey } =
      alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk: JWK = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const row = {
      id: kid,
      app_id: app.id,
      alg,
      public_jwk: JSON.stringify(publicJwk),
      private_key: this.masterKey.encrypt(pkcs8, kid),
      created_at: now,
    };
    const verifyUntil = now + app.settings.accessTokenTtl * 1000 + ROTATION_SKEW_MS;
    const { events } = this;
    if (events === undefined) await this.repository.rotate(row, verifyUntil);
    else
      await events.repositories.transaction(async (repositories) => {
        await repositories.signingKeys.rotate(row, verifyUntil);
        await events.log.append(repositories, app.id, { type: 'signing_key.rotated', kid });
      });
    this.cache.delete(app.id);
    return kid;
  }

  private async load(app: AppRecord, force = false): Promise<AppKeys> {
    const cached = force ? undefined : this.cache.get(app.id);
    if (cached !== undefined) return cached;
    const now = this.clock.now();
    const records = await this.repository.listVerifying(app.id, now);
    const keys = this.build(records);
    this.cache.set(app.id, keys, { since: now });
    return keys;
  }

  private build(records: SigningKeyRecord[]): AppKeys {
    const verifiers = new Map<string, VerificationKey>();
    const jwks: JWK[] = [];
    let signer: Signer | undefined;
    for (const record of records) {
      const jwk = JSON.parse(record.publicJwk) as JWK;
      verifiers.set(record.kid, {
        alg: record.alg,
        publicKey: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }),
      });
      jwks.push(jwk);
      if (record.retiredAt === null && signer === undefined) {
        const der = this.masterKey.decrypt(record.encryptedPrivateKey, record.kid);
        signer = {
          kid: record.kid,
          alg: record.alg,
          privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
        };
      }
    }
    return { signer, verifiers, jwks: { keys: jwks } };
  }
}
