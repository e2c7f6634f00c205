import type { Page, User } from '@tessera/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { cliFixture, type CliFixture } from '../helpers/cli.js';

const PASSWORD = 'a long enough password\n';
const client = { userAgent: null, ip: null };

describe.each(backends)('tessera user on $name', (backend) => {
  let cli: CliFixture;
  beforeEach(async () => {
    cli = await cliFixture(backend);
    await cli.run(['app', 'create', 'acme/chat']);
  });
  afterEach(() => cli.dispose());

  it('creates users, lists them with a search and by pages, and shows one', async () => {
    const ada = await cli.json<User>(
      ['user', 'create', 'acme/chat', '--email', 'ada@example.com', '--username', 'ada', '--tags', 'ops, admin'],
      PASSWORD,
    );
    expect(ada).toMatchObject({ email: 'ada@example.com', username: 'ada', tags: ['ops', 'admin'], disabled: false });
    const bob = (await cli.run(['user', 'create', 'acme/chat', '--email', 'bob@example.com'], PASSWORD)).stdout.trim();
    await cli.run(['user', 'create', 'acme/chat', '--username', 'adam', '--custom-data', '{"plan":"pro"}'], PASSWORD);

    const search = await cli.json<Page<User>>(['user', 'list', 'acme/chat', '--search', 'AD']);
    expect(search.items.map((user) => user.username ?? user.email)).toEqual(['ada', 'adam']);
    const first = await cli.json<Page<User>>(['user', 'list', 'acme/chat', '--limit', '2']);
    expect(first.items.map((user) => user.id)).toEqual([ada.id, bob]);
    const second = await cli.json<Page<User>>([
      'user',
      'list',
      'acme/chat',
      '--limit',
      '2',
      '--cursor',
      first.nextCursor!,
    ]);
    expect(second).toMatchObject({ items: [{ username: 'adam', customData: { plan: 'pro' } }], nextCursor: null });

    const table = (await cli.run(['user', 'list', 'acme/chat', '--limit', '2'])).stdout.split('\n');
    expect(table[0]).toMatch(/^ID +KIND +USERNAME +EMAIL +STATUS +CREATED$/);
    expect(table[1]).toMatch(new RegExp(`^${ada.id} +registered +ada +ada@example\\.com +active +\\S+$`));
    expect(table[3]).toBe(`more: --cursor ${first.nextCursor}`);

    expect(await cli.json(['user', 'show', 'acme/chat', ada.id])).toEqual(ada);
    expect((await cli.run(['user', 'show', 'acme/chat', bob])).stdout).toMatch(
      /^id: +\S+\n(.*\n)*email: +bob@example\.com\n/,
    );
  });

  // issue 14: a CometChat-style backend's users: its own ids, no password, roles.
  it('creates a user with its own id, roles and no password, and addresses it by external:<id>', async () => {
    const made = await cli.json<User>([
      'user',
      'create',
      'acme/chat',
      '--external-id',
      'uid-42',
      '--role',
      'moderator',
      '--role',
      'beta',
      '--no-password',
    ]);
    expect(made).toMatchObject({ externalId: 'uid-42', roles: ['moderator', 'beta'], username: null, email: null });
    expect(await cli.json(['user', 'show', 'acme/chat', 'external:uid-42'])).toEqual(made);
    const token = (await cli.run(['user', 'auth-token', 'acme/chat', 'external:uid-42'])).stdout.trim();
    const login = await cli
      .withServices(async (services) =>
        services.authenticator.login(
          await services.apps.getApp('acme', 'chat'),
          { strategy: 'auth-token', token },
          client,
        ),
      )
      .catch((error: unknown) => error);
    // The auth-token strategy is off in a new app: the token exists, the login is refused for that reason alone.
    expect(login).toMatchObject({ code: 'strategy_disabled' });
    const unknown = await cli.run(['user', 'disable', 'acme/chat', 'external:nobody']);
    expect(unknown).toMatchObject({ status: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/^error user_not_found: .*\n$/);
    const empty = await cli.run(['user', 'create', 'acme/chat', '--external-id', 'uid-43'], '');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/--no-password/);
  });

  it('ends sessions, disables, enables, makes an auth token and deletes, as the next login sees it', async () => {
    const id = (await cli.run(['user', 'create', 'acme/chat', '--email', 'eve@example.com'], PASSWORD)).stdout.trim();
    const password = { strategy: 'local', email: 'eve@example.com', password: PASSWORD.trim() };

    const session = await cli.withServices(async (services) =>
      services.authenticator.login(await services.apps.getApp('acme', 'chat'), password, client),
    );
    expect(await cli.json(['user', 'end-sessions', 'acme/chat', id])).toEqual({ id, revoked: 1 });
    await cli.withServices(async (services) => {
      const app = await services.apps.getApp('acme', 'chat');
      await expect(services.sessions.reread(app, session.session.id)).rejects.toMatchObject({
        code: 'session_revoked',
      });
    });
    expect(await cli.json(['user', 'disable', 'acme/chat', id])).toMatchObject({ id, disabled: true });
    await cli.withServices(async (services) => {
      const app = await services.apps.getApp('acme', 'chat');
      await expect(services.authenticator.login(app, password, client)).rejects.toMatchObject({
        code: 'invalid_credentials',
      });
    });
    expect(await cli.run(['user', 'enable', 'acme/chat', id])).toMatchObject({
      status: 0,
      stdout: `user ${id} enabled\n`,
    });

    // The token is printed once, alone on stdout; the note (and that the strategy is off) go to stderr.
    const made = await cli.run(['user', 'auth-token', 'acme/chat', id, '--label', 'kiosk', '--ttl', '30d']);
    expect(made.stdout).toMatch(/^at_\S+\n$/);
    expect(made.stderr).toContain('tessera strategy enable acme/chat auth-token');
    const described = await cli.json<{ token: string; label: string; expiresAt: string }>([
      'user',
      'auth-token',
      'acme/chat',
      id,
      '--ttl',
      '1h',
    ]);
    expect(described.token).toMatch(/^at_/);
    await cli.run(['strategy', 'enable', 'acme/chat', 'auth-token']);
    await cli.withServices(async (services) => {
      const app = await services.apps.getApp('acme', 'chat');
      const login = await services.authenticator.login(
        app,
        { strategy: 'auth-token', token: made.stdout.trim() },
        client,
      );
      expect(login.user.id).toBe(id);
      expect((await services.authTokens.list(app, id)).map((token) => token.label)).toContain('kiosk');
    });

    expect(await cli.run(['user', 'delete', 'acme/chat', id])).toMatchObject({
      status: 0,
      stdout: `user ${id} deleted\n`,
    });
    expect(await cli.run(['user', 'show', 'acme/chat', id])).toEqual({
      status: 1,
      stdout: '',
      stderr: 'error user_not_found: No such user.\n',
    });
  });

  it('refuses with one line and changes nothing: unknown user, bad flags, an invalid profile, a weak password', async () => {
    const refusals: [string[], number, string][] = [
      [['user', 'disable', 'acme/chat', 'no-such-user'], 1, 'error user_not_found: No such user.'],
      [['user', 'end-sessions', 'acme/chat', 'no-such-user'], 1, 'error user_not_found: No such user.'],
      [['user', 'auth-token', 'acme/chat', 'no-such-user'], 1, 'error user_not_found: No such user.'],
      [
        ['user', 'list', 'acme/chat', '--limit', '500'],
        2,
        "error usage: option '--limit <n>' argument '500' is invalid. expected an integer from 1 to 200 (see tessera user list --help)",
      ],
      [
        ['user', 'auth-token', 'acme/chat', 'x', '--ttl', 'forever'],
        2,
        "error usage: option '--ttl <duration>' argument 'forever' is invalid. expected seconds, or a number with s, m, h or d (e.g. 30d) (see tessera user auth-token --help)",
      ],
      [
        ['user', 'show', 'acme/chat'],
        2,
        "error usage: missing required argument 'userId' (see tessera user show --help)",
      ],
    ];
    for (const [args, status, line] of refusals)
      expect(await cli.run(args), args.join(' ')).toEqual({ status, stdout: '', stderr: `${line}\n` });

    const badEmail = await cli.run(['user', 'create', 'acme/chat', '--email', 'not-an-email'], PASSWORD);
    expect(badEmail).toEqual({
      status: 1,
      stdout: '',
      stderr: expect.stringMatching(/^error invalid_request: .*email: [^\n]*\n$/),
    });
    const weak = await cli.run(['user', 'create', 'acme/chat', '--email', 'weak@example.com'], 'short\n');
    expect(weak).toEqual({ status: 1, stdout: '', stderr: expect.stringMatching(/^error weak_password: [^\n]+\n$/) });
    const noPassword = await cli.run(['user', 'create', 'acme/chat', '--email', 'none@example.com']);
    expect(noPassword.stderr).toBe(
      'error usage: the password is read from standard input, and it was empty (or give --no-password)\n',
    );
    expect(await cli.json<Page<User>>(['user', 'list', 'acme/chat'])).toEqual({ items: [], nextCursor: null });
  });
});
