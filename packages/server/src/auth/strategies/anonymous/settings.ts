import Type, { type Static } from 'typebox';
import { enabledFlag } from '../toggle.js';

/** Per-app settings of the `anonymous` strategy. */
export const AnonymousSettings = Type.Object({ enabled: enabledFlag(false) }, { additionalProperties: false, default: {}, description: 'Anonymous users with an optional display name; each login makes a new ephemeral user.' });

export type AnonymousSettings = Static<typeof AnonymousSettings>;
