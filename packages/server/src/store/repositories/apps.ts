import type { Kysely, Selectable } from 'kysely';
import type { AppTable, Database, NamespaceTable } from '../schema.js';
import type { SettingsSealer } from '../../apps/sealed-settings.js';
import type { AppSettings } from '../../apps/settings.js';

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
  /** The kill switch: sessions created before this moment are over for good; null until first used. */
  sessionsRevokedBefore: number | null;
}

/** A new app's row, its settings not yet stored. */
export type NewAppRow = Omit<AppTable, 'settings' | 'sessions_revoked_before'> & { settings: AppSettings };

/** Namespaces and the apps inside them. Settings are stored with their secrets sealed. */
export class AppsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sealer: SettingsSealer,
  ) {}

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

  async insertApp({ settings, ...row }: NewAppRow, namespace: string): Promise<AppRecord> {
    await this.db
      .insertInto('apps')
      .values({ ...row, settings: this.sealer.seal(row.id, settings) })
      .execute();
    return {
      id: row.id,
      namespaceId: row.namespace_id,
      namespace,
      name: row.name,
      path: `${namespace}/${row.name}`,
      settings,
      createdAt: row.created_at,
      sessionsRevokedBefore: null,
    };
  }

  async findApp(namespace: string, name: string): Promise<AppRecord | undefined> {
    const row = await this.selectApps()
      .where('namespaces.name', '=', namespace)
      .where('apps.name', '=', name)
      .executeTakeFirst();
    return row && this.toApp(row);
  }

  async findAppById(id: string): Promise<AppRecord | undefined> {
    const row = await this.selectApps().where('apps.id', '=', id).executeTakeFirst();
    return row && this.toApp(row);
  }

  async listApps(namespace?: string): Promise<AppRecord[]> {
    let query = this.selectApps().orderBy('namespaces.name').orderBy('apps.name');
    if (namespace !== undefined) query = query.where('namespaces.name', '=', namespace);
    return (await query.execute()).map((row) => this.toApp(row));
  }

  async updateSettings(id: string, settings: AppSettings): Promise<void> {
    await this.db
      .updateTable('apps')
      .set({ settings: this.sealer.seal(id, settings) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Moves the app's session cut-off to `before`, never back: a later call with an earlier moment
   * leaves the later one. Returns the cut-off in force.
   */
  async raiseSessionsRevokedBefore(id: string, before: number): Promise<number> {
    await this.db
      .updateTable('apps')
      .set({ sessions_revoked_before: before })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('sessions_revoked_before', 'is', null), eb('sessions_revoked_before', '<', before)]))
      .execute();
    const row = await this.db
      .selectFrom('apps')
      .select('sessions_revoked_before')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return Number(row.sessions_revoked_before);
  }

  /**
   * Seals the secrets that settings written before secrets were encrypted still hold in clear.
   * Each row is rewritten only if it is still the document read, so a settings change made
   * meanwhile (by an admin, or another node doing the same) is never overwritten.
   */
  async sealPlaintextSecrets(): Promise<number> {
    const rows = await this.db.selectFrom('apps').select(['id', 'settings']).execute();
    let sealed = 0;
    for (const row of rows) {
      if (!this.sealer.holdsPlaintext(row.settings)) continue;
      const settings = this.sealer.sealStored(row.id, row.settings);
      const result = await this.db
        .updateTable('apps')
        .set({ settings })
        .where('id', '=', row.id)
        .where('settings', '=', row.settings)
        .executeTakeFirst();
      sealed += Number(result.numUpdatedRows);
    }
    return sealed;
  }

  private toApp(row: Selectable<AppTable> & { namespace: string }): AppRecord {
    return {
      id: row.id,
      namespaceId: row.namespace_id,
      namespace: row.namespace,
      name: row.name,
      path: `${row.namespace}/${row.name}`,
      settings: this.sealer.open(row.id, row.settings),
      createdAt: row.created_at,
      sessionsRevokedBefore: row.sessions_revoked_before === null ? null : Number(row.sessions_revoked_before),
    };
  }

  private selectApps() {
    return this.db
      .selectFrom('apps')
      .innerJoin('namespaces', 'namespaces.id', 'apps.namespace_id')
      .select([
        'apps.id',
        'apps.namespace_id',
        'apps.name',
        'apps.settings',
        'apps.created_at',
        'apps.sessions_revoked_before',
        'namespaces.name as namespace',
      ]);
  }
}

function toNamespace(row: Selectable<NamespaceTable>): NamespaceRecord {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}
