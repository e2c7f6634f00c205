import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, withJsonFlag, type JsonFlag } from '../output.js';
import { findApp, withServices } from '../with-services.js';

/** `tessera keys rotate`: the app's signing keys (API keys are `tessera key`). */
export function registerSigningKeyCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('manage signing keys');
  withJsonFlag(
    withStorageFlags(
      keys
        .command('rotate')
        .argument('<namespace/app>')
        .description('make a new current signing key; the old one verifies until its tokens expire'),
    ),
  ).action(async (path: string, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      const kid = await services.signingKeys.rotate(await findApp(services, path));
      printResult(io, flags, { kid }, () => `new signing key ${kid}\n`);
    }),
  );
}
