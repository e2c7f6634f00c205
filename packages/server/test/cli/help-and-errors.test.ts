import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../../src/cli/run.js';

/** Runs the CLI in this process with an empty environment; no command here reaches a database. */
async function tessera(args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io = {
    env: {},
    stdout: (text: string) => stdout.push(text),
    stderr: (text: string) => stderr.push(text),
    readStdin: () => Promise.resolve(''),
  };
  const status = await runCli(buildProgram(io), ['node', 'tessera', ...args], io);
  return { status, stdout: stdout.join(''), stderr: stderr.join('') };
}

const COMMANDS = [
  ['migrate'],
  ['app', 'create'],
  ['app', 'list'],
  ['key', 'create'],
  ['key', 'list'],
  ['key', 'revoke'],
  ['keys', 'rotate'],
  ['sessions', 'revoke-before'],
  ['admin-token', 'create'],
  ['user', 'create'],
  ['settings', 'get'],
  ['settings', 'set'],
  ['strategy', 'list'],
  ['strategy', 'enable'],
  ['strategy', 'disable'],
  ['user', 'list'],
  ['user', 'show'],
  ['user', 'disable'],
  ['user', 'enable'],
  ['user', 'delete'],
  ['user', 'end-sessions'],
  ['user', 'auth-token'],
];

describe('tessera help', () => {
  it('lists every group, and each command has help with --json and the storage flags', async () => {
    const help = await tessera(['--help']);
    expect(help.status).toBe(0);
    for (const group of ['settings', 'strategy', 'user', 'sessions', 'key', 'keys', 'admin-token'])
      expect(help.stdout).toMatch(new RegExp(`\\n  ${group}[ |]`));
    expect(help.stdout).toContain('"error <code>: <message>"');
    for (const command of COMMANDS) {
      const shown = await tessera([...command, '--help']);
      expect(shown.status, command.join(' ')).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^Usage: tessera ${command.join(' ')} `));
      expect(shown.stdout).toContain('--json');
      expect(shown.stdout).toContain('--database-url');
    }
  });
});

describe('tessera errors', () => {
  it('a wrong command line is one line with code usage and exit status 2', async () => {
    expect(await tessera(['frobnicate'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "error usage: unknown command 'frobnicate' (see tessera --help)\n",
    });
    expect(await tessera(['settings', 'get', 'acme/chat', '--colour'])).toEqual({
      status: 2,
      stdout: '',
      stderr: "error usage: unknown option '--colour' (see tessera settings get --help)\n",
    });
    expect(await tessera(['user', 'show', 'acme/chat', 'u1', 'extra'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(
        /^error usage: too many arguments for 'show'\. Expected 2 arguments but got 3 \(see tessera user show --help\)\n$/,
      ),
    });
    // A group without its command shows the group's help, on stderr.
    const group = await tessera(['user']);
    expect(group).toMatchObject({ status: 2, stdout: '' });
    expect(group.stderr).toMatch(/^Usage: tessera user\|users /);
  });

  it('a configuration the command cannot use is one line with code invalid_config and exit status 1', async () => {
    expect(await tessera(['migrate', '--database-url', 'mysql://nope'])).toEqual({
      status: 1,
      stdout: '',
      stderr: expect.stringMatching(/^error invalid_config: databaseUrl: must match pattern[^\n]*\n$/),
    });
  });
});
