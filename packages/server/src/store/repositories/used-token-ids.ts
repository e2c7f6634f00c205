import type { Kysely } from 'kysely';
import type { Database, UsedTokenIdTable } from '../schema.js';

/**
 * Token ids (`jti`) already used, for issuers whose tokens log in once. The primary key
 * (app, issuer, jti) makes the first use win atomically on every node sharing the database.
 */
export class UsedTokenIdsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records the id; false when it was already recorded (a replay). */
  async record(row: UsedTokenIdTable): Promise<boolean> {
    const result = await this.db
      .insertInto('used_token_ids')
      .values(row)
      .onConflict((conflict) => conflict.columns(['app_id', 'issuer', 'jti']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  /** Forgets ids whose tokens have expired: they can no longer be replayed anyway. */
  async prune(now: number): Promise<number> {
    const result = await this.db.deleteFrom('used_token_ids').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
