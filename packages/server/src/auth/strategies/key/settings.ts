import Type, { type Static } from 'typebox';
import { enabledFlag } from '../enabled-flag.js';

/** Per-app settings of the `key` strategy. */
export const KeySettings = Type.Object(
  { enabled: enabledFlag(false) },
  {
    additionalProperties: false,
    default: {},
    description: 'User id and publishable key, for development only; refused in production mode.',
  },
);

export type KeySettings = Static<typeof KeySettings>;
