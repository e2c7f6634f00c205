import { SCOPE_NAMES } from '@tessera/protocol';
import { Command, Option } from 'commander';
import { unknownEnvironmentVariables } from '../config/index.js';
import type { Services } from '../services.js';
import type { ApiKeyRecord } from '../store/repositories/index.js';
import { closeServices, createTessera, openServices, VERSION, type Tessera } from '../tessera.js';
import { onFirstStart } from './first-start.js';
import { CliError, configFrom, parseAppPath, withStorageFlags, type StorageFlags } from './options.js';
import type { StoppableServer } from './signals.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  /** Called with the running server by `start`, which then waits for a signal. */
  onStarted?: (server: StoppableServer) => void;
}

/** The `tessera` command line. Every command but `start` opens the database, acts, and exits. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('tessera')
    .description('Tessera: authentication, users and sessions for real-time apps')
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  withStorageFlags(
    program
      .command('start')
      .description('run the server (in development, the first start creates demo/chat and prints its keys)'),
  )
    .addOption(new Option('-p, --port <port>', 'TCP port').env('TESSERA_PORT'))
    .addOption(new Option('-H, --host <host>', 'address to listen on').env('TESSERA_HOST'))
    .action(async (flags: StorageFlags & { port?: string; host?: string }) => {
      const tessera = await createTessera({ config: configFrom(flags, io.env) });
      for (const name of unknownEnvironmentVariables(io.env))
        tessera.logger.warn(
          { variable: name },
          `${name} is not a Tessera setting and is ignored (docs/configuration.md lists them)`,
        );
      const url = await tessera.listen();
      try {
        // The credentials come first: "listening on" is the last line of a start, which scripts wait for.
        await onFirstStart(tessera, url, io.stdout);
      } catch (error) {
        await tessera.close();
        throw error;
      }
      const bound = boundUrl(tessera);
      io.stdout(
        `Tessera ${VERSION} listening on ${bound} (${bound === url ? '' : `public URL ${url}; `}${tessera.services.store.location})\n`,
      );
      io.onStarted?.({
        close: () => tessera.close(),
        logger: tessera.logger,
        shutdownTimeoutMs: tessera.config.shutdownTimeoutMs,
      });
    });

  withStorageFlags(program.command('migrate').description('apply pending database migrations')).action(
    async (flags: StorageFlags) => {
      await withServices(flags, io, () => Promise.resolve());
      io.stdout('database is up to date\n');
    },
  );

  const app = program.command('app').alias('apps').description('manage apps');
  withStorageFlags(
    app
      .command('create')
      .argument('<namespace/app>')
      .description('create an app (and its namespace if new) with a publishable and a secret key'),
  ).action(async (path: string, flags: StorageFlags) =>
    withServices(flags, io, async (services) => {
      const { namespace, app: name } = parseAppPath(path);
      if (!(await services.apps.listNamespaces()).some((existing) => existing.name === namespace))
        await services.apps.createNamespace(namespace);
      const created = await services.apps.createApp(namespace, name);
      const publishable = await services.apps.createKey(created, 'publishable', 'created by tessera app create');
      const secret = await services.apps.createKey(created, 'secret', 'created by tessera app create');
      io.stdout(
        `app ${created.path} created\npublishable key: ${publishable.token}\nsecret key:      ${secret.token}\n(the keys are shown once; only their hashes are stored)\n`,
      );
    }),
  );

  const key = program.command('key').description('manage API keys');
  withStorageFlags(key.command('create').argument('<namespace/app>').description('create a publishable or secret key'))
    .addOption(
      new Option('--kind <kind>', 'publishable or secret').choices(['publishable', 'secret']).makeOptionMandatory(),
    )
    .option('--label <label>', 'a note to recognise the key by')
    .option(
      '--scope <scope>',
      `a secret key's scope, repeated or comma-separated (${SCOPE_NAMES.join(', ')}); none: full access`,
      collectScopes,
    )
    .action(
      async (
        path: string,
        flags: StorageFlags & { kind: 'publishable' | 'secret'; label?: string; scope?: string[] },
      ) =>
        withServices(flags, io, async (services) => {
          const target = await findApp(services, path);
          const { key: created, token } = await services.apps.createKey(
            target,
            flags.kind,
            flags.label ?? null,
            flags.scope ?? null,
          );
          io.stdout(`${token}\n`);
          io.stderr(
            `${flags.kind} key ${created.id} created for ${target.path} (scopes: ${scopesColumn(created)}); it is shown once.\n`,
          );
        }),
    );
  withStorageFlags(
    key
      .command('revoke')
      .argument('<namespace/app>')
      .argument('<keyId>')
      .description('revoke a key by its id (write -- before an id that begins with a dash)'),
  ).action(async (path: string, keyId: string, flags: StorageFlags) =>
    withServices(flags, io, async (services) => {
      await services.apps.revokeKey(await findApp(services, path), keyId);
      io.stdout(`key ${keyId} revoked\n`);
    }),
  );
  withStorageFlags(key.command('list').argument('<namespace/app>').description('list the keys of an app')).action(
    async (path: string, flags: StorageFlags) =>
      withServices(flags, io, async (services) => {
        for (const listed of await services.apps.listKeys(await findApp(services, path))) {
          io.stdout(
            `${listed.id}\t${listed.kind}\t${listed.revokedAt === null ? 'active' : 'revoked'}\t${listed.label ?? ''}\t${scopesColumn(listed)}\n`,
          );
        }
      }),
  );

  const keys = program.command('keys').description('manage signing keys');
  withStorageFlags(
    keys
      .command('rotate')
      .argument('<namespace/app>')
      .description('make a new current signing key; the old one verifies until its tokens expire'),
  ).action(async (path: string, flags: StorageFlags) =>
    withServices(flags, io, async (services) => {
      io.stdout(`new signing key ${await services.signingKeys.rotate(await findApp(services, path))}\n`);
    }),
  );

  const user = program.command('user').description('manage users');
  withStorageFlags(
    user
      .command('create')
      .argument('<namespace/app>')
      .description('create a user; the password is read from standard input'),
  )
    .option('--username <username>')
    .option('--email <email>')
    .option('--full-name <name>')
    .action(async (path: string, flags: StorageFlags & { username?: string; email?: string; fullName?: string }) => {
      const password = (await io.readStdin()).replace(/\r?\n$/, '');
      await withServices(flags, io, async (services) => {
        const created = await services.users.signup(
          await findApp(services, path),
          {
            password,
            ...(flags.username === undefined ? {} : { username: flags.username }),
            ...(flags.email === undefined ? {} : { email: flags.email }),
            ...(flags.fullName === undefined ? {} : { fullName: flags.fullName }),
          },
          { viaSecretKey: true },
        );
        io.stdout(`${created.id}\n`);
      });
    });

  const sessions = program.command('sessions').description('end sessions');
  withStorageFlags(
    sessions
      .command('revoke-before')
      .argument('<namespace/app>')
      .description(
        'kill switch after a breach: end every session of the app started before a moment (default now), for good, on every node',
      ),
  )
    .option('--before <date-time>', 'an ISO 8601 date-time, not in the future (default: now)')
    .action(async (path: string, flags: StorageFlags & { before?: string }) =>
      withServices(flags, io, async (services) => {
        const before = flags.before === undefined ? undefined : Date.parse(flags.before);
        if (before !== undefined && Number.isNaN(before))
          throw new CliError(`--before: ${JSON.stringify(flags.before)} is not an ISO 8601 date-time`);
        const result = await services.killSwitch.revokeBefore(await findApp(services, path), before);
        io.stdout(
          `${result.revoked} sessions ended; sessions of ${path} started before ${new Date(result.before).toISOString()} are refused from now on\n`,
        );
        if (!services.cluster.shared)
          io.stderr(
            'without Redis the running server hears of this within its cache lifetime (TESSERA_SESSION_CACHE_TTL_MS), and its open sockets at their next session check; the admin API acts at once\n',
          );
      }),
    );

  const admin = program.command('admin-token').description('manage admin tokens');
  withStorageFlags(admin.command('create').description('create an admin token for the admin API'))
    .option('--label <label>')
    .action(async (flags: StorageFlags & { label?: string }) =>
      withServices(flags, io, async (services) => {
        io.stdout(`${await services.apps.createAdminToken(flags.label ?? null)}\n`);
      }),
    );

  return program;
}

async function withServices(flags: StorageFlags, io: CliIo, act: (services: Services) => Promise<void>): Promise<void> {
  const services = await openServices({ config: configFrom(flags, io.env, { logLevel: 'error' }) });
  try {
    await act(services);
  } finally {
    await closeServices(services);
  }
}

/** `--scope a --scope b,c`: every value, split at commas (checked against the vocabulary by createKey). */
function collectScopes(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').flatMap((scope) => (scope.trim() === '' ? [] : [scope.trim()]))];
}

/** A key's scopes in one word: `all` for a full-access secret key, `-` for a publishable key. */
function scopesColumn(key: ApiKeyRecord): string {
  if (key.kind === 'publishable') return '-';
  return key.scopes === null ? 'all' : key.scopes.join(',');
}

async function findApp(services: Services, path: string) {
  const { namespace, app } = parseAppPath(path);
  return services.apps.getApp(namespace, app);
}

/** The address this process listens on, which differs from the public URL behind a load balancer. */
function boundUrl(tessera: Tessera): string {
  const address = tessera.http.server.address();
  if (address === null || typeof address === 'string') return String(address);
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

export { CliError };
