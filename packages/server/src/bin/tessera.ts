#!/usr/bin/env node
import { buildProgram } from '../cli/program.js';
import { runCli } from '../cli/run.js';
import { stopOnSignals } from '../cli/signals.js';
import { standardOutput } from '../lib/non-blocking-output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// The same writer as the logs: a reader that stops reading or goes away never blocks the server.
const stdout = standardOutput();

const stderr = (text: string) => process.stderr.write(text);
const program = buildProgram({
  env: process.env,
  stdout: (text) => stdout.write(text),
  stderr,
  readStdin,
  onStarted: (server) => stopOnSignals(server, (code) => process.exit(code)),
});

// A command that succeeded ends when it has closed the database; `start` runs until a signal.
const status = await runCli(program, process.argv, { stderr });
if (status !== 0) process.exit(status);
