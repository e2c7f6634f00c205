import type { Command } from 'commander';
import { maskSecrets } from '../../apps/secret-settings.js';
import { AppSettingsSchema, type AppSettingsPatch } from '../../apps/settings.js';
import type { CliIo } from '../io.js';
import { withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, withJsonFlag, type JsonFlag } from '../output.js';
import {
  assertSettingsPath,
  dotted,
  parseSettingsPath,
  patchSetting,
  settingLines,
  valueAt,
} from '../settings-path.js';
import { findApp, warnIfServerHearsLater, withServices } from '../with-services.js';

/**
 * `tessera settings get|set`: an app's settings by dotted path, checked by the schema the admin
 * API uses. Secrets are shown masked, as the admin API shows them.
 */
export function registerSettingsCommands(program: Command, io: CliIo): void {
  const settings = program
    .command('settings')
    .description("read and change an app's settings, by dotted path (docs/guide.md describes them)");

  withJsonFlag(
    withStorageFlags(
      settings
        .command('get')
        .argument('<namespace/app>')
        .argument('[path]', 'a dotted path, e.g. strategies.local.enabled (default: every setting)')
        .description('print the settings, or the one at a path; secrets are masked'),
    ),
  ).action(async (path: string, settingPath: string | undefined, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      const steps = parseSettingsPath(settingPath ?? '');
      assertSettingsPath(AppSettingsSchema, steps);
      const app = await findApp(services, path);
      const value = valueAt(maskSecrets(AppSettingsSchema, app.settings), steps) ?? null;
      printResult(io, flags, value, () => `${settingLines(value, steps).join('\n')}\n`);
    }),
  );

  withJsonFlag(
    withStorageFlags(
      settings
        .command('set')
        .argument('<namespace/app>')
        .argument('<path>', 'a dotted path, e.g. accessTokenTtl or strategies.oidc.providers.0.clientId')
        .argument('<value>', 'JSON (true, 900, "EdDSA", […], {…}); other text is taken as a string; - reads stdin')
        .description('change one setting; the whole result is checked before anything is written'),
    ),
  ).action(async (path: string, settingPath: string, text: string, flags: StorageFlags & JsonFlag) => {
    const steps = parseSettingsPath(settingPath);
    assertSettingsPath(AppSettingsSchema, steps);
    // A secret typed on the command line stays in the shell's history; stdin keeps it out.
    const value = parseValue(text === '-' ? (await io.readStdin()).replace(/\r?\n$/, '') : text);
    await withServices(flags, io, async (services) => {
      const app = await findApp(services, path);
      const patch = patchSetting(app.settings, steps, value) as AppSettingsPatch;
      const updated = await services.apps.updateSettings(app, patch);
      const shown = valueAt(maskSecrets(AppSettingsSchema, updated.settings), steps) ?? null;
      printResult(io, flags, { app: updated.path, path: dotted(steps), value: shown }, () =>
        [...settingLines(shown, steps), ''].join('\n'),
      );
      warnIfServerHearsLater(services, io, 'settings');
    });
  });
}

/** JSON when it parses, the text itself otherwise: `ES256` needs no quotes, `"true"` is the string. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
