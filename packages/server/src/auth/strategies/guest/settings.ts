import Type, { type Static } from 'typebox';
import { enabledFlag } from '../toggle.js';

/** Per-app settings of the `guest` strategy. */
export const GuestSettings = Type.Object({ enabled: enabledFlag(false) }, { additionalProperties: false, default: {}, description: 'Named guests, kept as users of kind guest for a limited time.' });

export type GuestSettings = Static<typeof GuestSettings>;
