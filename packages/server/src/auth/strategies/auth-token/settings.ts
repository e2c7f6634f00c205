import Type, { type Static } from 'typebox';
import { enabledFlag } from '../enabled-flag.js';

/** Per-app settings of the `auth-token` strategy. */
export const AuthTokenSettings = Type.Object(
  { enabled: enabledFlag(false) },
  {
    additionalProperties: false,
    default: {},
    description: 'Long-lived per-user tokens made by the app’s backend with the secret key.',
  },
);

export type AuthTokenSettings = Static<typeof AuthTokenSettings>;
