import { Command, Option, type CommanderError } from 'commander';
import { presentKey } from '../presenters/apps.js';
import { VERSION } from '../tessera.js';
import { registerAdminTokenCommands } from './commands/admin-token.js';
import { registerAppCommands } from './commands/app.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerSessionCommands } from './commands/sessions.js';
import { registerSettingsCommands } from './commands/settings.js';
import { registerSigningKeyCommands } from './commands/signing-keys.js';
import { registerStartCommand } from './commands/start.js';
import { registerStrategyCommands } from './commands/strategy.js';
import { registerUserCommands } from './commands/user.js';
import type { CliIo } from './io.js';
import { CliError, withStorageFlags, type StorageFlags } from './options.js';
import { printResult, withJsonFlag, type JsonFlag } from './output.js';
import { usageErrorOf } from './run.js';
import { findApp, withServices } from './with-services.js';

export type { CliIo } from './io.js';

const AFTER_HELP = `
Every command but start opens the database named by --database-url or --data-dir (or
TESSERA_DATABASE_URL, TESSERA_DATA_DIR), acts, and exits. --json prints the result as one JSON
document. An error is one line on stderr, "error <code>: <message>"; the exit status is 1 when
the command was refused or failed, 2 when the command line is wrong. docs/cli.md has examples.`;

/** The `tessera` command line. Every command but `start` opens the database, acts, and exits. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('tessera')
    .description('Tessera: authentication, users and sessions for real-time apps')
    .version(VERSION)
    .addHelpText('after', AFTER_HELP)
    // Errors are printed by runCli, as one line; commander only says what help and version say.
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => undefined })
    .exitOverride(function (this: Command, error: CommanderError): never {
      throw usageErrorOf(error, this);
    });

  registerStartCommand(program, io);
  registerMigrateCommand(program, io);
  registerAppCommands(program, io);

  const key = program.command('key').description('manage API keys');
  withJsonFlag(
    withStorageFlags(
      key.command('create').argument('<namespace/app>').description('create a publishable or secret key'),
    ),
  )
    .addOption(
      new Option('--kind <kind>', 'publishable or secret').choices(['publishable', 'secret']).makeOptionMandatory(),
    )
    .option('--label <label>', 'a note to recognise the key by')
    .action(async (path: string, flags: StorageFlags & JsonFlag & { kind: 'publishable' | 'secret'; label?: string }) =>
      withServices(flags, io, async (services) => {
        const target = await findApp(services, path);
        const { key: created, token } = await services.apps.createKey(target, flags.kind, flags.label ?? null);
        printResult(io, flags, { key: token, ...presentKey(created) }, () => `${token}\n`);
        io.stderr(`${flags.kind} key ${created.id} created for ${target.path}; it is shown once.\n`);
      }),
    );
  withJsonFlag(
    withStorageFlags(
      key
        .command('revoke')
        .argument('<namespace/app>')
        .argument('<keyId>')
        .description('revoke a key by its id (write -- before an id that begins with a dash)'),
    ),
  ).action(async (path: string, keyId: string, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      await services.apps.revokeKey(await findApp(services, path), keyId);
      printResult(io, flags, { id: keyId, revoked: true }, () => `key ${keyId} revoked\n`);
    }),
  );
  withJsonFlag(
    withStorageFlags(key.command('list').argument('<namespace/app>').description('list the keys of an app')),
  ).action(async (path: string, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      const keys = await services.apps.listKeys(await findApp(services, path));
      // Tab-separated, without a header: scripts read it with awk (docs/guide.md).
      printResult(io, flags, { items: keys.map(presentKey) }, () =>
        keys
          .map(
            (listed) =>
              `${listed.id}\t${listed.kind}\t${listed.revokedAt === null ? 'active' : 'revoked'}\t${listed.label ?? ''}\n`,
          )
          .join(''),
      );
    }),
  );

  registerSigningKeyCommands(program, io);
  registerSettingsCommands(program, io);
  registerStrategyCommands(program, io);
  registerUserCommands(program, io);
  registerSessionCommands(program, io);
  registerAdminTokenCommands(program, io);

  return program;
}

export { CliError };
