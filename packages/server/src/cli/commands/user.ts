import type { Command } from 'commander';
import type { User } from '@tessera/protocol';
import { parseWithSchema } from '../../lib/validate.js';
import { presentUser } from '../../presenters/users.js';
import { CreateUserBodySchema } from '../../users/profile-schema.js';
import type { CliIo } from '../io.js';
import { CliError, withStorageFlags, type StorageFlags } from '../options.js';
import { fields, printResult, shown, table, withJsonFlag, type JsonFlag } from '../output.js';
import { commaList, integerBetween, json } from '../parsers.js';
import { findApp, withServices } from '../with-services.js';
import { registerUserAccessCommands } from './user-access.js';

interface CreateFlags extends StorageFlags, JsonFlag {
  username?: string;
  email?: string;
  fullName?: string;
  phone?: string;
  tags?: string[];
  customData?: unknown;
  externalId?: string;
  role?: string[];
  /** False with --no-password. */
  password: boolean;
}

interface ListFlags extends StorageFlags, JsonFlag {
  search?: string;
  limit: number;
  cursor?: string;
}

/** `tessera user …`: the users of an app, as the app's backend manages them with its secret key. */
export function registerUserCommands(program: Command, io: CliIo): void {
  const user = program.command('user').alias('users').description("manage an app's users");

  withJsonFlag(
    withStorageFlags(
      user
        .command('create')
        .argument('<namespace/app>')
        .description('create a user and print its id; the password is read from standard input (or --no-password)'),
    ),
  )
    .option('--username <username>', 'a login name (give it, the email, or both)')
    .option('--email <email>', 'a login email')
    .option('--full-name <name>', 'the name shown to others')
    .option('--phone <phone>', 'a phone number')
    .option('--tags <tags>', 'tags, comma-separated', commaList)
    .option('--custom-data <json>', "the app's own data about the user, a JSON object", json)
    .option('--external-id <id>', 'your own id of the user (then it may have no username or email)')
    .option('--role <role>', 'a role carried in its access tokens; repeat for more', repeated)
    .option('--no-password', 'a user who logs in only by auth tokens or external logins (none is read)')
    .action(async (path: string, flags: CreateFlags) => {
      const password = flags.password ? await passwordFromStdin(io) : null;
      const { username, email, fullName, phone, tags, customData, externalId, role: roles } = flags;
      const body = parseWithSchema(CreateUserBodySchema, {
        password,
        ...definedOnly({ username, email, fullName, phone, tags, customData, externalId, roles }),
      });
      await withServices(flags, io, async (services) => {
        const created = await services.users.signup(await findApp(services, path), body, { viaSecretKey: true });
        printResult(io, flags, presentUser(created), () => `${created.id}\n`);
      });
    });

  withJsonFlag(
    withStorageFlags(user.command('list').argument('<namespace/app>').description('list users, oldest first')),
  )
    .option('--search <text>', 'only users whose username or email begins with this (case-insensitive)')
    .option('--limit <n>', 'users per page, 1 to 200', integerBetween(1, 200), 50)
    .option('--cursor <cursor>', 'the next page, as the previous page named it')
    .action(async (path: string, flags: ListFlags) =>
      withServices(flags, io, async (services) => {
        const page = await services.users.list(await findApp(services, path), {
          prefix: flags.search,
          cursor: flags.cursor,
          limit: flags.limit,
        });
        printResult(io, flags, page, () => {
          const rows = page.items.map(userRow);
          const more = page.nextCursor === null ? '' : `more: --cursor ${page.nextCursor}\n`;
          return `${table(['ID', 'KIND', 'USERNAME', 'EMAIL', 'STATUS', 'CREATED'], rows)}${more}`;
        });
      }),
    );

  withJsonFlag(
    withStorageFlags(
      user
        .command('show')
        .argument('<namespace/app>')
        .argument('<userId>', 'its id, or external:<externalId>')
        .description("print a user's profile"),
    ),
  ).action(async (path: string, userId: string, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      const app = await findApp(services, path);
      const shownUser = presentUser(await services.users.get(app, await services.users.idOf(app, userId)));
      printResult(io, flags, shownUser, () =>
        fields(Object.entries(shownUser).map(([name, value]): [string, string] => [name, shown(value)])),
      );
    }),
  );

  registerUserAccessCommands(user, io);
}

function userRow(user: User): string[] {
  return [
    user.id,
    user.kind,
    shown(user.username),
    shown(user.email),
    user.disabled ? 'disabled' : 'active',
    user.createdAt,
  ];
}

async function passwordFromStdin(io: CliIo): Promise<string> {
  const password = (await io.readStdin()).replace(/\r?\n$/, '');
  if (password === '')
    throw new CliError('the password is read from standard input, and it was empty (or give --no-password)');
  return password;
}

function repeated(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The entries whose value is set: an absent flag must not reach the schema as `undefined`. */
function definedOnly(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}
