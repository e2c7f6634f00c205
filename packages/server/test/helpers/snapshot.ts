import { openStore } from '../../src/store/database.js';
import type { TestServer } from './server.js';

const TABLES = [
  'namespaces',
  'apps',
  'api_keys',
  'admin_tokens',
  'signing_keys',
  'users',
  'sessions',
  'reconnect_tokens',
] as const;

/** Every row of every table, as one comparable string: "the database is unchanged" made checkable. */
export async function snapshotDatabase(server: TestServer): Promise<string> {
  const store = openStore({ url: server.databaseUrl, dataDir: server.dataDir, poolSize: 1 });
  try {
    const tables: Record<string, unknown[]> = {};
    for (const table of TABLES) tables[table] = await store.db.selectFrom(table).selectAll().orderBy('id').execute();
    return JSON.stringify(tables);
  } finally {
    await store.close();
  }
}
