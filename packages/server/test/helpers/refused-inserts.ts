import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import type { Backend } from './backends.js';

type Table = Extract<keyof Database, string>;
type Statement = 'insert' | 'update' | 'delete';

/**
 * A real failure of the database half-way through an operation: a trigger that refuses every
 * insert into `table`, so the statement that writes there fails and the ones before it must not
 * be kept (issue 6: no half-written rows).
 */
export function refuseInserts(db: Kysely<Database>, backend: Backend['name'], table: Table): Promise<void> {
  return refuseWrites(db, backend, table, 'insert');
}

/** Takes `refuseInserts` back; does nothing when it was not in force. */
export function allowInserts(db: Kysely<Database>, backend: Backend['name'], table: Table): Promise<void> {
  return allowWrites(db, backend, table, 'insert');
}

/** As `refuseInserts`, for any kind of write to `table` (an update, a delete). */
export async function refuseWrites(
  db: Kysely<Database>,
  backend: Backend['name'],
  table: Table,
  statement: Statement,
): Promise<void> {
  const name = triggerName(table, statement);
  const statements =
    backend === 'sqlite'
      ? [`create trigger ${name} before ${statement} on ${table} begin select raise(abort, 'refused by the test'); end`]
      : [
          `create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`,
          `create trigger ${name} before ${statement} on ${table} for each row execute function ${name}()`,
        ];
  for (const text of statements) await sql.raw(text).execute(db);
}

/** Takes `refuseWrites` back; does nothing when it was not in force. */
export async function allowWrites(
  db: Kysely<Database>,
  backend: Backend['name'],
  table: Table,
  statement: Statement,
): Promise<void> {
  const name = triggerName(table, statement);
  const statements =
    backend === 'sqlite'
      ? [`drop trigger if exists ${name}`]
      : [`drop trigger if exists ${name} on ${table}`, `drop function if exists ${name}()`];
  for (const text of statements) await sql.raw(text).execute(db);
}

const triggerName = (table: Table, statement: Statement) => `refuse_${statement}_${table}`;
