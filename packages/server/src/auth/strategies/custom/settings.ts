import Type, { type Static } from 'typebox';
import { enabledFlag } from '../toggle.js';

/** Per-app settings of the `custom` strategy. */
export const CustomSettings = Type.Object({ enabled: enabledFlag(false) }, { additionalProperties: false, default: {}, description: 'Opaque tokens vouched for by the app’s own identity-provider webhook.' });

export type CustomSettings = Static<typeof CustomSettings>;
