import Type, { type Static } from 'typebox';
import { enabledFlag } from '../enabled-flag.js';

/** Per-app settings of the `access-token` strategy. */
export const AccessTokenSettings = Type.Object(
  { enabled: enabledFlag(true) },
  {
    additionalProperties: false,
    default: {},
    description: 'Re-authentication with a still-valid access token (Feathers reAuthenticate).',
  },
);

export type AccessTokenSettings = Static<typeof AccessTokenSettings>;
