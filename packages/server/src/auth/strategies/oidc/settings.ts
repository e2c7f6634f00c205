import Type, { type Static } from 'typebox';
import { enabledFlag } from '../toggle.js';

/** Per-app settings of the `oidc` strategy. */
export const OidcSettings = Type.Object({ enabled: enabledFlag(false) }, { additionalProperties: false, default: {}, description: 'ID tokens of the app’s OpenID Connect providers.' });

export type OidcSettings = Static<typeof OidcSettings>;
