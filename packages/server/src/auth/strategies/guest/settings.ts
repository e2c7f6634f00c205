import Type, { type Static } from 'typebox';
import { enabledFlag } from '../enabled-flag.js';

const MINUTE = 60;
const DAY = 24 * 3600;

/** Per-app settings of the `guest` strategy. */
export const GuestSettings = Type.Object(
  {
    enabled: enabledFlag(false),
    lifetime: Type.Integer({
      default: DAY,
      minimum: 5 * MINUTE,
      maximum: 365 * DAY,
      description: 'Seconds a guest user lasts from its login; its sessions end then, and the clean-up removes it.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Named guests, kept as users of kind guest for a limited time.',
  },
);

export type GuestSettings = Static<typeof GuestSettings>;
