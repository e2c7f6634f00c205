import type { Command } from 'commander';
import { toIso } from '../../lib/clock.js';
import type { CliIo } from '../io.js';
import { CliError, withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, withJsonFlag, type JsonFlag } from '../output.js';
import { findApp, warnIfServerHearsLater, withServices } from '../with-services.js';

/** `tessera sessions revoke-before`: the app-wide kill switch. A user's own sessions are `tessera user end-sessions`. */
export function registerSessionCommands(program: Command, io: CliIo): void {
  const sessions = program
    .command('sessions')
    .description("end an app's sessions (a user's: tessera user end-sessions)");
  withJsonFlag(
    withStorageFlags(
      sessions
        .command('revoke-before')
        .argument('<namespace/app>')
        .description(
          'kill switch after a breach: end every session of the app started before a moment (default now), for good, on every node',
        ),
    ),
  )
    .option('--before <date-time>', 'an ISO 8601 date-time, not in the future (default: now)')
    .action(async (path: string, flags: StorageFlags & JsonFlag & { before?: string }) =>
      withServices(flags, io, async (services) => {
        const before = flags.before === undefined ? undefined : Date.parse(flags.before);
        if (before !== undefined && Number.isNaN(before))
          throw new CliError(`--before: ${JSON.stringify(flags.before)} is not an ISO 8601 date-time`);
        const result = await services.killSwitch.revokeBefore(await findApp(services, path), before);
        const cutOff = toIso(result.before);
        printResult(
          io,
          flags,
          { before: cutOff, revoked: result.revoked },
          () =>
            `${result.revoked} sessions ended; sessions of ${path} started before ${cutOff} are refused from now on\n`,
        );
        warnIfServerHearsLater(services, io, 'sessions');
      }),
    );
}
