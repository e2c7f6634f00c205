import { Command, type CommanderError } from 'commander';
import { VERSION } from '../tessera.js';
import { registerAdminTokenCommands } from './commands/admin-token.js';
import { registerAppCommands } from './commands/app.js';
import { registerKeyCommands } from './commands/key.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerSessionCommands } from './commands/sessions.js';
import { registerSettingsCommands } from './commands/settings.js';
import { registerSigningKeyCommands } from './commands/signing-keys.js';
import { registerStartCommand } from './commands/start.js';
import { registerStrategyCommands } from './commands/strategy.js';
import { registerUserCommands } from './commands/user.js';
import type { CliIo } from './io.js';
import { CliError } from './options.js';
import { usageErrorOf } from './run.js';

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

  registerKeyCommands(program, io);
  registerSigningKeyCommands(program, io);
  registerSettingsCommands(program, io);
  registerStrategyCommands(program, io);
  registerUserCommands(program, io);
  registerSessionCommands(program, io);
  registerAdminTokenCommands(program, io);

  return program;
}

export { CliError };
