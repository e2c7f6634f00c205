import Type, { type Static } from 'typebox';
import { enabledFlag } from '../enabled-flag.js';

/** Per-app settings of the `reconnect` strategy. */
export const ReconnectSettings = Type.Object(
  { enabled: enabledFlag(true) },
  { additionalProperties: false, default: {}, description: 'Single-use reconnect tokens that resume a session.' },
);

export type ReconnectSettings = Static<typeof ReconnectSettings>;
