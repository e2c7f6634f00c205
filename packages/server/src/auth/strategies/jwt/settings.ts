import Type, { type Static } from 'typebox';
import { enabledFlag } from '../toggle.js';

/** Per-app settings of the `jwt` strategy. */
export const JwtSettings = Type.Object({ enabled: enabledFlag(false) }, { additionalProperties: false, default: {}, description: 'Tokens of the app’s trusted issuers.' });

export type JwtSettings = Static<typeof JwtSettings>;
