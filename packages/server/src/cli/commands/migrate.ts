import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, withJsonFlag, type JsonFlag } from '../output.js';
import { withServices } from '../with-services.js';

/** `tessera migrate`: opening the database applies the pending migrations. */
export function registerMigrateCommand(program: Command, io: CliIo): void {
  withJsonFlag(withStorageFlags(program.command('migrate').description('apply pending database migrations'))).action(
    async (flags: StorageFlags & JsonFlag) => {
      await withServices(flags, io, () => Promise.resolve());
      printResult(io, flags, { upToDate: true }, () => 'database is up to date\n');
    },
  );
}
