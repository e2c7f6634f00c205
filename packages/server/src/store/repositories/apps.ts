import type { Kysely, Selectable } from 'kysely';
import type { AppTable, Database, NamespaceTable } from '../schema.js';
import { parseAppSettings, type AppSettings } from '../../apps/settings.js';

export interface NamespaceRecord {
  id: string;
  name: string;
  createdAt: number;
}

export interface AppRecord {
  id: string;
  namespaceId: string;
  namespace: string;
  name: string;
  /** `namespace/app`, the audience of the app's access tokens. */
  path: string;
  settings: AppSettings;
  createdAt: number;
}

/** Namespaces and the apps inside them. */
export class AppsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertNamespace(row: NamespaceTable): Promise<NamespaceRecord> {
    await this.db.insertInto('namespaces').values(row).execute();
    return toNamespace(row);
  }

  async findNamespace(name: string): Promise<NamespaceRecord | undefined> {
    const row = await this.db.selectFrom('namespaces').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toNamespace(row);
  }

  async listNamespaces(): Promise<NamespaceRecord[]> {
    const rows = await this.db.selectFrom('namespaces').selectAll().orderBy('name').execute();
    return rows.map(toNamespace);
  }

  async insertApp(row: AppTable, namespace: string): Promise<AppRecord> {
    await this.db.insertInto('apps').values(row).execute();
    return toApp({ ...row, namespace });
  }

  async findApp(namespace: string, name: string): Promise<AppRecord | undefined> {
    const row = await this.selectApps().where('namespaces.name', '=', namespace).where('apps.name', '=', name).executeTakeFirst();
    return row && toApp(row);
  }

  async findAppById(id: string): Promise<AppRecord | undefined> {
    const row = await this.selectApps().where('apps.id', '=', id).executeTakeFirst();
    return row && toApp(row);
  }

  async listApps(namespace?: string): Promise<AppRecord[]> {
    let query = this.selectApps().orderBy('namespaces.name').orderBy('apps.name');
    if (namespace !== undefined) query = query.where('namespaces.name', '=', namespace);
    return (await query.execute()).map(toApp);
  }

  async updateSettings(id: string, settings: AppSettings): Promise<void> {
    await this.db.updateTable('apps').set({ settings: JSON.stringify(settings) }).where('id', '=', id).execute();
  }

  private selectApps() {
    return this.db
      .selectFrom('apps')
      .innerJoin('namespaces', 'namespaces.id', 'apps.namespace_id')
      .select(['apps.id', 'apps.namespace_id', 'apps.name', 'apps.settings', 'apps.created_at', 'namespaces.name as namespace']);
  }
}

function toNamespace(row: Selectable<NamespaceTable>): NamespaceRecord {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

function toApp(row: Selectable<AppTable> & { namespace: string }): AppRecord {
  return {
    id: row.id,
    namespaceId: row.namespace_id,
    namespace: row.namespace,
    name: row.name,
    path: `${row.namespace}/${row.name}`,
    settings: parseAppSettings(JSON.parse(row.settings)),
    createdAt: row.created_at,
  };
}
