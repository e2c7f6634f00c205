import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, withJsonFlag, type JsonFlag } from '../output.js';
import { withServices } from '../with-services.js';

/** `tessera admin-token create`: a token for the admin API, printed once. */
export function registerAdminTokenCommands(program: Command, io: CliIo): void {
  const admin = program.command('admin-token').description('manage admin tokens');
  withJsonFlag(withStorageFlags(admin.command('create').description('create an admin token for the admin API')))
    .option('--label <label>', 'a note to recognise the token by')
    .action(async (flags: StorageFlags & JsonFlag & { label?: string }) =>
      withServices(flags, io, async (services) => {
        const token = await services.apps.createAdminToken(flags.label ?? null);
        printResult(io, flags, { token }, () => `${token}\n`);
      }),
    );
}
