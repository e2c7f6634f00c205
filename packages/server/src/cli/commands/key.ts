import { SCOPE_NAMES } from '@tessera/protocol';
import { Option, type Command } from 'commander';
import { presentKey } from '../../presenters/apps.js';
import type { ApiKeyRecord } from '../../store/repositories/index.js';
import type { CliIo } from '../io.js';
import { withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, withJsonFlag, type JsonFlag } from '../output.js';
import { findApp, withServices } from '../with-services.js';

type CreateFlags = StorageFlags & JsonFlag & { kind: 'publishable' | 'secret'; label?: string; scope?: string[] };

/** `tessera key create|revoke|list`: an app's API keys; a secret key may carry scopes. */
export function registerKeyCommands(program: Command, io: CliIo): void {
  const key = program.command('key').description('manage API keys');
  withJsonFlag(
    withStorageFlags(
      key.command('create').argument('<namespace/app>').description('create a publishable or secret key'),
    ),
  )
    .addOption(
      new Option('--kind <kind>', 'publishable or secret').choices(['publishable', 'secret']).makeOptionMandatory(),
    )
    .option('--label <label>', 'a note to recognise the key by')
    .option(
      '--scope <scope>',
      `a secret key's scope, repeated or comma-separated (${SCOPE_NAMES.join(', ')}); none: full access`,
      collectScopes,
    )
    .action(async (path: string, flags: CreateFlags) =>
      withServices(flags, io, async (services) => {
        const target = await findApp(services, path);
        const { key: created, token } = await services.apps.createKey(
          target,
          flags.kind,
          flags.label ?? null,
          flags.scope ?? null,
        );
        printResult(io, flags, { key: token, ...presentKey(created) }, () => `${token}\n`);
        io.stderr(
          `${flags.kind} key ${created.id} created for ${target.path} (scopes: ${scopesColumn(created)}); it is shown once.\n`,
        );
      }),
    );
  withJsonFlag(
    withStorageFlags(
      key
        .command('revoke')
        .argument('<namespace/app>')
        .argument('<keyId>')
        .description('revoke a key by its id (write -- before an id that begins with a dash)'),
    ),
  ).action(async (path: string, keyId: string, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      await services.apps.revokeKey(await findApp(services, path), keyId);
      printResult(io, flags, { id: keyId, revoked: true }, () => `key ${keyId} revoked\n`);
    }),
  );
  withJsonFlag(
    withStorageFlags(key.command('list').argument('<namespace/app>').description('list the keys of an app')),
  ).action(async (path: string, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      const keys = await services.apps.listKeys(await findApp(services, path));
      // Tab-separated, without a header, scopes last: scripts read it with awk (docs/guide.md).
      printResult(io, flags, { items: keys.map(presentKey) }, () =>
        keys
          .map(
            (listed) =>
              `${listed.id}\t${listed.kind}\t${listed.revokedAt === null ? 'active' : 'revoked'}\t${listed.label ?? ''}\t${scopesColumn(listed)}\n`,
          )
          .join(''),
      );
    }),
  );
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
