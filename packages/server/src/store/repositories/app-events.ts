import { sql, type Kysely, type Selectable } from 'kysely';
import type { AppEventTable, Database } from '../schema.js';

export interface AppEventRecord {
  appId: string;
  sequence: number;
  type: string;
  userId: string | null;
  /** The event's own fields, as JSON. */
  data: string;
  createdAt: number;
}

export type NewAppEventRow = Omit<AppEventRecord, 'sequence'>;

/** Where an app's event log stands: its latest sequence and the oldest one still kept. */
export interface AppEventBounds {
  /** 0 when the app never had an event. */
  latest: number;
  /** undefined when no event is kept (none yet, or all pruned). */
  oldest: number | undefined;
}

/** The per-app event log (migration 0008): append in the change's transaction, read after a sequence, prune. */
export class AppEventsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Appends an event with the app's next sequence. Call it inside the transaction of the change
   * it records. The sequence comes from the app's counter row, bumped by an upsert: on
   * PostgreSQL the row stays locked until the transaction ends, so the appends of one app are
   * serialized and commit in sequence order — a reader that sees 6 has 5 visible already. A
   * `max(sequence) + 1` would hand two transactions the same number, and a PostgreSQL SEQUENCE
   * (or an identity column) gives numbers out at once, in any commit order: a reader could see 6
   * while 5 is still uncommitted, move past it and never send 5. SQLite has one writer anyway.
   */
  async append(row: NewAppEventRow): Promise<number> {
    const { last_sequence: sequence } = await this.db
      .insertInto('app_event_sequences')
      .values({ app_id: row.appId, last_sequence: 1 })
      .onConflict((conflict) =>
        conflict.column('app_id').doUpdateSet({ last_sequence: sql<number>`app_event_sequences.last_sequence + 1` }),
      )
      .returning('last_sequence')
      .executeTakeFirstOrThrow();
    await this.db
      .insertInto('app_events')
      .values({
        app_id: row.appId,
        sequence: Number(sequence),
        type: row.type,
        user_id: row.userId,
        data: row.data,
        created_at: row.createdAt,
      })
      .execute();
    return Number(sequence);
  }

  /** The app's events after `after`, in sequence order, at most `limit`. */
  async listAfter(appId: string, after: number, limit: number): Promise<AppEventRecord[]> {
    const rows = await this.db
      .selectFrom('app_events')
      .selectAll()
      .where('app_id', '=', appId)
      .where('sequence', '>', after)
      .orderBy('sequence')
      .limit(limit)
      .execute();
    return rows.map(toAppEvent);
  }

  async bounds(appId: string): Promise<AppEventBounds> {
    const counter = await this.db
      .selectFrom('app_event_sequences')
      .select('last_sequence')
      .where('app_id', '=', appId)
      .executeTakeFirst();
    const oldest = await this.db
      .selectFrom('app_events')
      .select('sequence')
      .where('app_id', '=', appId)
      .orderBy('sequence')
      .limit(1)
      .executeTakeFirst();
    return {
      latest: counter === undefined ? 0 : Number(counter.last_sequence),
      oldest: oldest === undefined ? undefined : Number(oldest.sequence),
    };
  }

  /** The apps that have an event log. */
  async appIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('app_event_sequences').select('app_id').execute();
    return rows.map((row) => row.app_id);
  }

  /** Deletes the app's events made before `before`; returns how many. The counter row stays. */
  async prune(appId: string, before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('app_events')
      .where('app_id', '=', appId)
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toAppEvent(row: Selectable<AppEventTable>): AppEventRecord {
  return {
    appId: row.app_id,
    sequence: Number(row.sequence),
    type: row.type,
    userId: row.user_id,
    data: row.data,
    createdAt: Number(row.created_at),
  };
}
