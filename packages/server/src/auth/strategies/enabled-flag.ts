import Type from 'typebox';

/** The `enabled` switch every strategy's per-app settings start with. */
export function enabledFlag(byDefault: boolean) {
  return Type.Boolean({
    default: byDefault,
    description: byDefault ? 'On unless the app turns it off.' : 'Off unless the app turns it on.',
  });
}
