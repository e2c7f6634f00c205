import { ERROR_CODES } from '@tessera/protocol';
import { CommanderError, type Command } from 'commander';
import { ConfigError } from '../config/index.js';
import { TesseraError } from '../errors.js';
import { dottedPath } from '../lib/validation-details.js';
import { unavailableError } from '../store/errors.js';
import type { CliIo } from './io.js';
import { CliError } from './options.js';

/** Exit statuses: 0 done; 1 refused or failed (the line's code says why); 2 the command line is wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Commander's outcomes that are not errors: help asked for, or the version. */
const ANSWERED = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * Runs a command line and returns the exit status. A failure is one line on stderr,
 * `error <code>: <message>`: the code is the API's error code (`app_not_found`,
 * `invalid_request`…), `usage`, `invalid_config`, or `internal_error`.
 */
export async function runCli(program: Command, argv: readonly string[], io: Pick<CliIo, 'stderr'>): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // Help and version are printed already; a group named without its command printed its help on stderr.
    if (error instanceof CommanderError) return ANSWERED.has(error.code) ? 0 : EXIT_USAGE;
    const failure = describeFailure(error);
    io.stderr(`error ${failure.code}: ${failure.message.replaceAll(/\s*\n\s*/g, ' ')}\n`);
    return failure.exitCode;
  }
}

/**
 * Commander's errors (unknown command or option, missing argument, a value its parser refused)
 * become usage errors that point to the command's help. Help and version pass through.
 */
export function usageErrorOf(error: CommanderError, command: Command | undefined): Error {
  if (ANSWERED.has(error.code) || error.code === 'commander.help') return error;
  const message = error.message.replace(/^error: /, '').replace(/\.$/, '');
  return new CliError(command === undefined ? message : `${message} (see ${commandPath(command)} --help)`, {
    cause: error,
  });
}

interface Failure {
  code: string;
  message: string;
  exitCode: number;
}

function describeFailure(error: unknown): Failure {
  if (error instanceof CliError) return { code: error.code, message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof ConfigError) return { code: 'invalid_config', message: error.message, exitCode: EXIT_FAILED };
  const known = error instanceof TesseraError ? error : unavailableError(error);
  if (known !== undefined) return { code: known.code, message: withDetails(known), exitCode: EXIT_FAILED };
  return {
    code: 'internal_error',
    message: error instanceof Error ? error.message : String(error),
    exitCode: EXIT_FAILED,
  };
}

/**
 * The message, with what the details add to it (the fields at fault, or what was not found)
 * when it is the code's general one: a message of its own already says it.
 */
function withDetails({ code, message, details, cause }: TesseraError): string {
  const added = message === ERROR_CODES[code].message ? detailsSaid(details) : undefined;
  const said = added === undefined ? message : `${message.replace(/\.$/, '')}${added}`;
  return cause instanceof Error ? `${said.replace(/\.$/, '')}: ${cause.message}` : said;
}

function detailsSaid(details: unknown): string | undefined {
  if (Array.isArray(details) && details.length > 0) {
    const fields = details.map((detail: unknown) => {
      const { path, message } = (detail ?? {}) as { path?: unknown; message?: unknown };
      return typeof path === 'string' && typeof message === 'string'
        ? `${dottedPath(path) || 'value'}: ${message}`
        : JSON.stringify(detail);
    });
    return `: ${fields.join('; ')}`;
  }
  if (typeof details !== 'object' || details === null || Object.keys(details).length === 0) return undefined;
  const named = Object.entries(details).map(
    ([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  return ` (${named.join(', ')})`;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current !== null; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}
