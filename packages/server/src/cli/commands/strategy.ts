import type { Command } from 'commander';
import { StrategiesSettings, type StrategyName } from '../../auth/strategies/settings.js';
import { TesseraError } from '../../errors.js';
import type { CliIo } from '../io.js';
import { withStorageFlags, type StorageFlags } from '../options.js';
import { printResult, table, withJsonFlag, type JsonFlag } from '../output.js';
import { findApp, warnIfServerHearsLater, withServices } from '../with-services.js';

const STRATEGY_NAMES = Object.keys(StrategiesSettings.properties) as StrategyName[];

/** `tessera strategy list|enable|disable`: which login methods an app accepts (`strategies.<name>.enabled`). */
export function registerStrategyCommands(program: Command, io: CliIo): void {
  const strategy = program
    .command('strategy')
    .alias('strategies')
    .description(`turn an app's login methods on and off (${STRATEGY_NAMES.join(', ')})`);

  withJsonFlag(
    withStorageFlags(
      strategy.command('list').argument('<namespace/app>').description("list the login methods and whether they're on"),
    ),
  ).action(async (path: string, flags: StorageFlags & JsonFlag) =>
    withServices(flags, io, async (services) => {
      const { settings } = await findApp(services, path);
      const items = STRATEGY_NAMES.map((name) => ({ name, enabled: settings.strategies[name].enabled }));
      printResult(io, flags, { items }, () =>
        table(
          ['STRATEGY', 'ENABLED', 'WHAT'],
          items.map(({ name, enabled }) => [name, enabled ? 'yes' : 'no', descriptionOf(name)]),
        ),
      );
    }),
  );

  for (const enabled of [true, false]) {
    const verb = enabled ? 'enable' : 'disable';
    withJsonFlag(
      withStorageFlags(
        strategy
          .command(verb)
          .argument('<namespace/app>')
          .argument('<strategy>', STRATEGY_NAMES.join(', '))
          .description(
            enabled
              ? 'let the app log users in with a method (its other settings must be valid: tessera settings set)'
              : 'stop a login method: new logins with it are refused (strategy_disabled); sessions already made go on',
          ),
      ),
    ).action(async (path: string, name: string, flags: StorageFlags & JsonFlag) =>
      withServices(flags, io, async (services) => {
        const app = await findApp(services, path);
        const known = strategyName(name);
        const updated = await services.apps.updateSettings(app, { strategies: { [known]: { enabled } } });
        printResult(
          io,
          flags,
          { app: updated.path, strategy: known, enabled: updated.settings.strategies[known].enabled },
          () => `strategy ${known} ${enabled ? 'enabled' : 'disabled'} for ${updated.path}\n`,
        );
        warnIfServerHearsLater(services, io, 'settings');
      }),
    );
  }
}

function strategyName(name: string): StrategyName {
  if ((STRATEGY_NAMES as string[]).includes(name)) return name as StrategyName;
  throw new TesseraError('unknown_strategy', {
    message: `No login strategy "${name.slice(0, 64)}"; the strategies are ${STRATEGY_NAMES.join(', ')}.`,
  });
}

function descriptionOf(name: StrategyName): string {
  const { description } = StrategiesSettings.properties[name] as { description?: unknown };
  return typeof description === 'string' ? description : '';
}
