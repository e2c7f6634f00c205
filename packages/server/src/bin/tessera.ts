#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from '../cli/program.js';
import { CliError } from '../cli/options.js';
import { stopOnSignals } from '../cli/signals.js';
import { ConfigError } from '../config/index.js';
import { TesseraError } from '../errors.js';
import { standardOutput } from '../lib/non-blocking-output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// The same writer as the logs: a reader that stops reading or goes away never blocks the server.
const stdout = standardOutput();

const program = buildProgram({
  env: process.env,
  stdout: (text) => stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin,
  onStarted: (server) => stopOnSignals(server, (code) => process.exit(code)),
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const known = error instanceof ConfigError || error instanceof CliError || error instanceof TesseraError;
  process.stderr.write(`tessera: ${known ? error.message : String(error)}\n`);
  if (error instanceof TesseraError) process.stderr.write(`(code ${error.code})\n`);
  process.exit(1);
}
