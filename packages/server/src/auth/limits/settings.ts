import Type, { type Static } from 'typebox';

interface Defaults {
  perAddress: number;
  perApp: number;
  window: number;
}

const MAX_COUNT = 10_000_000;

function countSetting(fallback: number, description: string) {
  return Type.Integer({
    default: fallback,
    minimum: 0,
    maximum: MAX_COUNT,
    description: `${description} 0 turns this count off.`,
  });
}

function windowSetting(fallback: number) {
  return Type.Integer({
    default: fallback,
    minimum: 1,
    maximum: 86_400,
    description: 'Length of the counting window in seconds; the counts start again when it ends.',
  });
}

/** A limit counted per client address and per app within a fixed window. */
function limitOf(what: string, defaults: Defaults) {
  return Type.Object(
    {
      perAddress: countSetting(
        defaults.perAddress,
        `${what} one client address (an IPv6 /64) may make within the window.`,
      ),
      perApp: countSetting(defaults.perApp, `${what} the whole app may take within the window, from all addresses.`),
      window: windowSetting(defaults.window),
    },
    {
      additionalProperties: false,
      default: {},
      description: `${what}: past a count, 429 rate_limited with Retry-After until the window ends.`,
    },
  );
}

const ReconnectLimit = Type.Object(
  {
    perAddress: countSetting(
      600,
      'Reconnect-token refreshes one client address (an IPv6 /64) may make within the window.',
    ),
    perToken: countSetting(
      60,
      'Presentations of one reconnect token (by its id) within the window, retries of a lost answer included.',
    ),
    perApp: countSetting(
      0,
      'Reconnect-token refreshes the whole app may take within the window; off by default, as they grow with the number of users.',
    ),
    window: windowSetting(300),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Reconnect-token refreshes (the reconnect strategy and the realtime refresh frame): past a count, 429 rate_limited with Retry-After.',
  },
);

/**
 * Per-app abuse limits on what a caller can do without being signed in: make users, start
 * sessions, refresh, and guess credentials. Counters live in the ephemeral store (Redis in a
 * cluster), so every node counts the same. Durations in seconds.
 */
export const RateLimitsSettings = Type.Object(
  {
    signup: limitOf('Signups with the publishable key (the secret key is not limited)', {
      perAddress: 100,
      perApp: 10_000,
      window: 3600,
    }),
    anonymousLogin: limitOf('Anonymous logins (each makes a new user)', {
      perAddress: 100,
      perApp: 10_000,
      window: 600,
    }),
    guestLogin: limitOf('Guest logins (each makes a new user)', { perAddress: 100, perApp: 10_000, window: 600 }),
    reconnect: ReconnectLimit,
    failedCredentials: limitOf(
      'Failed checks of a token or key (access, reconnect and auth tokens, API keys, external JWTs and ID tokens, identity-provider tokens, user ids of the key strategy); only failures count. The per-app count covers logins only',
      { perAddress: 100, perApp: 10_000, window: 600 },
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Limits on unauthenticated writes and on credential guessing, per client address and per app (see the guide, "Abuse limits").',
  },
);

export type RateLimitsSettings = Static<typeof RateLimitsSettings>;
export type OperationLimitName = 'signup' | 'anonymousLogin' | 'guestLogin' | 'reconnect';
