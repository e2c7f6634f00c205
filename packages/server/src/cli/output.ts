import type { Command } from 'commander';
import type { CliIo } from './io.js';

export interface JsonFlag {
  json?: boolean;
}

/** `--json`: the command's result as one JSON document on stdout, for scripts. */
export function withJsonFlag(command: Command): Command {
  return command.option('--json', 'print the result as one JSON document, for scripts');
}

/** Prints a command's result: `value` as JSON with `--json`, else the text `human` makes for a reader. */
export function printResult(io: CliIo, flags: JsonFlag, value: unknown, human: () => string): void {
  io.stdout(flags.json === true ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** Rows under a header, in columns two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `${cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  return [header, ...rows].map(line).join('');
}

/** `name: value` lines with the values aligned, for one record. */
export function fields(entries: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...entries.map(([name]) => name.length + 1));
  return entries.map(([name, value]) => `${`${name}:`.padEnd(width)} ${value}\n`).join('');
}

/** A value in a human line: text as it is, null as `-`, anything else as JSON. */
export function shown(value: unknown): string {
  if (value === null || value === undefined) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
