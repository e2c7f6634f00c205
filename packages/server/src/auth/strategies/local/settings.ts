import Type, { type Static } from 'typebox';
import { enabledFlag } from '../enabled-flag.js';

/** Per-app settings of the `local` strategy. */
export const LocalSettings = Type.Object(
  { enabled: enabledFlag(true) },
  { additionalProperties: false, default: {}, description: 'Username or email and password.' },
);

export type LocalSettings = Static<typeof LocalSettings>;
