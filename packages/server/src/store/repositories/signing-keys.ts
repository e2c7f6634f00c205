import type { Kysely, Selectable } from 'kysely';
import type { Database, SigningKeyTable } from '../schema.js';

export interface SigningKeyRecord {
  kid: string;
  appId: string;
  alg: SigningKeyTable['alg'];
  publicJwk: string;
  encryptedPrivateKey: string;
  createdAt: number;
  retiredAt: number | null;
  verifyUntil: number | null;
}

/** Each app's token signing keys: one current, older ones verifying until their tokens expire. */
export class SigningKeysRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Makes `row` the app's current key; the previous current key verifies until `verifyUntil`. In
   * the caller's transaction when this repository is bound to one, otherwise in its own.
   */
  async rotate(row: Omit<SigningKeyTable, 'retired_at' | 'verify_until'>, verifyUntil: number): Promise<void> {
    const inTransaction = <T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> =>
      this.db.isTransaction ? work(this.db) : this.db.transaction().execute(work);
    await inTransaction(async (trx) => {
      await trx
        .updateTable('signing_keys')
        .set({ retired_at: row.created_at, verify_until: verifyUntil })
        .where('app_id', '=', row.app_id)
        .where('retired_at', 'is', null)
        .execute();
      await trx
        .insertInto('signing_keys')
        .values({ ...row, retired_at: null, verify_until: null })
        .execute();
    });
  }

  /** The current key first, then retired keys that still verify. */
  async listVerifying(appId: string, now: number): Promise<SigningKeyRecord[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('app_id', '=', appId)
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('verify_until', '>', now)]))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toSigningKey);
  }
}

function toSigningKey(row: Selectable<SigningKeyTable>): SigningKeyRecord {
  return {
    kid: row.id,
    appId: row.app_id,
    alg: row.alg,
    publicJwk: row.public_jwk,
    encryptedPrivateKey: row.private_key,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
    verifyUntil: row.verify_until,
  };
}
