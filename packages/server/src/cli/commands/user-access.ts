import type { Command } from 'commander';
import { CreateAuthTokenBodySchema } from '@tessera/protocol';
import { parseWithSchema } from '../../lib/validate.js';
import { presentUser } from '../../presenters/users.js';
import type { CliIo } from '../io.js';
import { withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, withJsonFlag, type JsonFlag } from '../output.js';
import { durationSeconds } from '../parsers.js';
import { findApp, warnIfServerHearsLater, withServices } from '../with-services.js';

const SECRET_KEY_API = 'the secret-key API';

/** `tessera user disable|enable|delete|end-sessions|auth-token`: what decides whether a user gets in. */
export function registerUserAccessCommands(user: Command, io: CliIo): void {
  const userCommand = (name: string, description: string) =>
    withJsonFlag(
      withStorageFlags(
        user
          .command(name)
          .argument('<namespace/app>')
          .argument('<userId>', 'its id, or external:<externalId>')
          .description(description),
      ),
    );

  for (const disabled of [true, false]) {
    userCommand(
      disabled ? 'disable' : 'enable',
      disabled
        ? 'stop a user from logging in and end its sessions; its data stays'
        : 'let a disabled user log in again',
    ).action(async (path: string, userId: string, flags: StorageFlags & JsonFlag) =>
      withServices(flags, io, async (services) => {
        const app = await findApp(services, path);
        const updated = await services.users.updateAsAdmin(app, await services.users.idOf(app, userId), { disabled });
        printResult(io, flags, presentUser(updated), () =>
          disabled ? `user ${updated.id} disabled; its sessions are ended\n` : `user ${updated.id} enabled\n`,
        );
        if (disabled) warnIfServerHearsLater(services, io, 'sessions', SECRET_KEY_API);
      }),
    );
  }

  userCommand('delete', 'delete a user with its sessions, identities and auth tokens, for good').action(
    async (path: string, userId: string, flags: StorageFlags & JsonFlag) =>
      withServices(flags, io, async (services) => {
        const app = await findApp(services, path);
        const id = await services.users.idOf(app, userId);
        await services.users.delete(app, id);
        printResult(io, flags, { id, deleted: true }, () => `user ${id} deleted\n`);
        warnIfServerHearsLater(services, io, 'sessions', SECRET_KEY_API);
      }),
  );

  userCommand('end-sessions', 'end every session of a user, on every device; the user may log in again').action(
    async (path: string, userId: string, flags: StorageFlags & JsonFlag) =>
      withServices(flags, io, async (services) => {
        const app = await findApp(services, path);
        const target = await services.users.get(app, await services.users.idOf(app, userId));
        const revoked = (await services.sessions.revokeAll(target, 'revoked')).length;
        printResult(io, flags, { id: target.id, revoked }, () => `${revoked} sessions of user ${target.id} ended\n`);
        warnIfServerHearsLater(services, io, 'sessions', SECRET_KEY_API);
      }),
  );

  userCommand('auth-token', 'make a long-lived token that logs the user in (auth-token strategy); printed once')
    .option('--label <label>', 'what the token is for, e.g. the device')
    .option('--ttl <duration>', 'lifetime: seconds, or 15m, 12h, 30d… (default: no expiry)', durationSeconds)
    .action(async (path: string, userId: string, flags: StorageFlags & JsonFlag & { label?: string; ttl?: number }) => {
      const body = parseWithSchema(CreateAuthTokenBodySchema, {
        ...(flags.label === undefined ? {} : { label: flags.label }),
        ...(flags.ttl === undefined ? {} : { expiresIn: flags.ttl }),
      });
      await withServices(flags, io, async (services) => {
        const app = await findApp(services, path);
        const { token, metadata } = await services.authTokens.create(app, await services.users.idOf(app, userId), body);
        printResult(io, flags, { token, ...metadata }, () => `${token}\n`);
        io.stderr(`auth token ${metadata.id} created for user ${metadata.userId}; it is shown once.\n`);
        if (!app.settings.strategies['auth-token'].enabled)
          io.stderr(`the auth-token strategy is off for ${app.path}: tessera strategy enable ${app.path} auth-token\n`);
      });
    });
}
