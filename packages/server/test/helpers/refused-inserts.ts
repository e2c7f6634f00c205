import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import type { Backend } from './backends.js';

type Table = Extract<keyof Database, string>;

/**
 * A real failure of the database half-way through an operation: a trigger that refuses every
 * insert into `table`, so the statement that writes there fails and the ones before it must not
 * be kept (issue 6: no half-written rows).
 */
export async function refuseInserts(db: Kysely<Database>, backend: Backend['name'], table: Table): Promise<void> {
  const name = triggerName(table);
  const statements =
    backend === 'sqlite'
      ? [`create trigger ${name} before insert on ${table} begin select raise(abort, 'refused by the test'); end`]
      : [
          `create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`,
          `create trigger ${name} before insert on ${table} for each row execute function ${name}()`,
        ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/** Takes `refuseInserts` back; does nothing when it was not in force. */
export async function allowInserts(db: Kysely<Database>, backend: Backend['name'], table: Table): Promise<void> {
  const name = triggerName(table);
  const statements = backend === 'sqlite' ? [`drop trigger if exists ${name}`] : [`drop trigger if exists ${name} on ${table}`, `drop function if exists ${name}()`];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

const triggerName = (table: Table) => `refuse_${table}`;
