import type { Command } from 'commander';
import { toIso } from '../../lib/clock.js';
import { presentApp, presentKey } from '../../presenters/apps.js';
import type { CliIo } from '../io.js';
import { parseAppPath, withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, table, withJsonFlag, type JsonFlag } from '../output.js';
import { withServices } from '../with-services.js';

/** `tessera app …`: apps, made with their first keys, and listed. */
export function registerAppCommands(program: Command, io: CliIo): void {
  const app = program.command('app').alias('apps').description('create and list apps');

  withJsonFlag(
    withStorageFlags(
      app
        .command('create')
        .argument('<namespace/app>')
        .description('create an app (and its namespace if new) with a publishable and a secret key, shown once'),
    ),
  ).action(async (path: string, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      const { namespace, app: name } = parseAppPath(path);
      if (!(await services.apps.listNamespaces()).some((existing) => existing.name === namespace))
        await services.apps.createNamespace(namespace);
      const created = await services.apps.createApp(namespace, name);
      const publishable = await services.apps.createKey(created, 'publishable', 'created by tessera app create');
      const secret = await services.apps.createKey(created, 'secret', 'created by tessera app create');
      printResult(
        io,
        flags,
        {
          app: presentApp(created),
          keys: [publishable, secret].map(({ key, token }) => ({ key: token, ...presentKey(key) })),
        },
        () =>
          `app ${created.path} created\npublishable key: ${publishable.token}\nsecret key:      ${secret.token}\n(the keys are shown once; only their hashes are stored)\n`,
      );
    }),
  );

  withJsonFlag(
    withStorageFlags(
      app.command('list').argument('[namespace]', 'only the apps of this namespace').description('list the apps'),
    ),
  ).action(async (namespace: string | undefined, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      const apps = await services.apps.listApps(namespace);
      printResult(io, flags, { items: apps.map(presentApp) }, () =>
        table(
          ['APP', 'CREATED'],
          apps.map((listed) => [listed.path, toIso(listed.createdAt)]),
        ),
      );
    }),
  );
}
