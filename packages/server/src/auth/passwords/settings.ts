import Type, { type Static } from 'typebox';
import { DEFAULT_MIN_PASSWORD_LENGTH, HIGHEST_MIN_PASSWORD_LENGTH, LOWEST_MIN_PASSWORD_LENGTH } from './policy.js';

/** Per-app password policy; it applies when a password is set (signup, change, reset, upgrade), never to stored ones. */
export const PasswordPolicySettings = Type.Object(
  {
    minLength: Type.Integer({
      default: DEFAULT_MIN_PASSWORD_LENGTH,
      minimum: LOWEST_MIN_PASSWORD_LENGTH,
      maximum: HIGHEST_MIN_PASSWORD_LENGTH,
      description:
        'Fewest characters (Unicode code points after NFKC) of a new password. NIST SP 800-63B-4 asks 15 for a password used alone and allows 8 only with a second factor, which Tessera does not have yet: lower it only if your app adds one. Stored passwords keep working when it rises.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      "What a new password must be. Always refused besides: common passwords, and the user's email, its local part, username, the app's and namespace's names (also with digits or symbols around them).",
  },
);

export type PasswordPolicySettings = Static<typeof PasswordPolicySettings>;
