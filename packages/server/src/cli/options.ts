import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../config/index.js';

export interface StorageFlags {
  dataDir?: string;
  databaseUrl?: string;
  logLevel?: string;
}

/** Flags every command accepts: where the data is. They override the environment. */
export function withStorageFlags(command: Command): Command {
  return command
    .addOption(new Option('--data-dir <dir>', 'data folder for the embedded SQLite database').env('TESSERA_DATA_DIR'))
    .addOption(new Option('--database-url <url>', 'postgres://… or sqlite://…').env('TESSERA_DATABASE_URL'))
    .addOption(new Option('--log-level <level>', 'log level').env('TESSERA_LOG_LEVEL'));
}

/** The configuration from the environment, with the command's flags on top. */
export function configFrom(
  flags: StorageFlags & { port?: string; host?: string },
  env: NodeJS.ProcessEnv,
  defaults: { logLevel?: string } = {},
): Readonly<Config> {
  return loadConfig({
    env: { ...(defaults.logLevel === undefined ? {} : { TESSERA_LOG_LEVEL: defaults.logLevel }), ...env },
    overrides: {
      dataDir: flags.dataDir,
      databaseUrl: flags.databaseUrl,
      logLevel: flags.logLevel,
      host: flags.host,
      port: flags.port === undefined ? undefined : Number(flags.port),
    },
  });
}

/** `namespace/app` as given on the command line. */
export function parseAppPath(path: string): { namespace: string; app: string } {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(path);
  if (match === null) throw new CliError(`expected namespace/app, got "${path}"`);
  return { namespace: match[1]!, app: match[2]! };
}

/**
 * A command line that cannot be carried out as written: an unknown command or option, a missing
 * argument, a value that is not of its kind. The CLI prints `error usage: <message>` and exits 2.
 */
export class CliError extends Error {
  override name = 'CliError';
  readonly code = 'usage';
}
