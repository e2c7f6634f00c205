import Type, { type Static } from 'typebox';
import { enabledFlag } from '../enabled-flag.js';

const DAY = 24 * 3600;

/** Per-app settings of the `anonymous` strategy. */
export const AnonymousSettings = Type.Object(
  {
    enabled: enabledFlag(false),
    retention: Type.Integer({
      default: 7 * DAY,
      minimum: 0,
      maximum: 400 * DAY,
      description:
        'Seconds an ended anonymous user is kept (its old tokens answer user_ended meanwhile) before the clean-up removes it.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Anonymous users with an optional display name; each login makes a new ephemeral user, ended when its last session ends.',
  },
);

export type AnonymousSettings = Static<typeof AnonymousSettings>;
