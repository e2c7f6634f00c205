import Type, { type Static } from 'typebox';

/** Per-app brute-force protection of password checks. Durations in seconds. */
export const LoginThrottleSettings = Type.Object(
  {
    accountMaxFailures: Type.Integer({
      default: 5,
      minimum: 1,
      maximum: 1000,
      description: 'Wrong passwords for one account within the window before each further attempt must wait.',
    }),
    ipMaxFailures: Type.Integer({
      default: 50,
      minimum: 1,
      maximum: 100_000,
      description: 'Wrong passwords from one IP address, across accounts, within the window before it must wait.',
    }),
    window: Type.Integer({
      default: 900,
      minimum: 60,
      maximum: 86_400,
      description: 'How long failures are remembered, from the first one.',
    }),
    baseDelay: Type.Integer({
      default: 1,
      minimum: 1,
      maximum: 3600,
      description: 'The first wait past the limit; it doubles with each further failure.',
    }),
    maxDelay: Type.Integer({ default: 900, minimum: 1, maximum: 86_400, description: 'The longest wait.' }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Growing delays after repeated wrong passwords, per account and per IP; 429 rate_limited with Retry-After.',
  },
);

export type LoginThrottleSettings = Static<typeof LoginThrottleSettings>;
