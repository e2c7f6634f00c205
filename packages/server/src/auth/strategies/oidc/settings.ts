import Type, { type Static } from 'typebox';
import { enabledFlag } from '../enabled-flag.js';

/**
 * An issuer is an https URL without query or fragment (OpenID Connect Discovery 1.0, §2). Plain
 * http is accepted only for a loopback host, so tests and local development can run a provider
 * on 127.0.0.1; anywhere else it would let a network attacker serve their own keys.
 */
export const ISSUER_PATTERN =
  '^(?:https://[^/?#@\\s]+|http://(?:127\\.0\\.0\\.1|localhost|\\[::1\\])(?::[0-9]{1,5})?)(?:/[^?#\\s]*)?$';

/**
 * Claims of the ID token mapped beyond the standard profile claims (which are always read).
 * Optional, without defaults, so that a provider's settings read back as they were written.
 */
const OidcClaims = Type.Object(
  {
    roles: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 256, pattern: '^\\S+$' }), Type.Null()], {
        description:
          "The claim holding a list of role names (or one name) that becomes the user's roles at each login: a claim name, or a dotted path (`realm_access.roles`); a token without it means no roles. Absent or null: roles are not taken from this provider.",
      }),
    ),
  },
  { additionalProperties: false, description: 'Claims of the ID token that fill the user.' },
);

/** One OpenID Connect provider whose ID tokens the app accepts. */
export const OidcProviderSettings = Type.Object(
  {
    issuer: Type.String({
      maxLength: 1024,
      pattern: ISSUER_PATTERN,
      description:
        'The provider’s issuer identifier, exactly as its discovery document and its ID tokens state it (e.g. `https://accounts.google.com`). https only; http is accepted for 127.0.0.1, localhost and [::1], for tests and local development.',
    }),
    clientId: Type.String({
      minLength: 1,
      maxLength: 512,
      description: 'The app’s client id at this provider: an ID token must name it in `aud`.',
    }),
    autoProvision: Type.Optional(
      Type.Boolean({
        description:
          'Whether an unknown (issuer, subject) creates a user of kind `external`. When absent, the app’s `autoProvisionUsers` decides.',
      }),
    ),
    discoveryCacheSeconds: Type.Integer({
      default: 3600,
      minimum: 60,
      maximum: 7 * 24 * 3600,
      description:
        'How long the provider’s discovery document and keys are kept before they are fetched again. An unknown key id fetches the keys sooner, at most once per 30 seconds.',
    }),
    timeoutMs: Type.Integer({
      default: 3000,
      minimum: 100,
      maximum: 30_000,
      description: 'Timeout of each request to the provider (discovery document, keys).',
    }),
    maxTokenLifetime: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10 * 366 * 24 * 3600,
        description: 'Seconds an ID token may live (exp − iat) at most. Unset: no limit.',
      }),
    ),
    claims: Type.Optional(OidcClaims),
  },
  { additionalProperties: false },
);

export type OidcProviderSettings = Static<typeof OidcProviderSettings>;

/** Per-app settings of the `oidc` strategy. */
export const OidcSettings = Type.Object(
  {
    enabled: enabledFlag(false),
    providers: Type.Array(OidcProviderSettings, {
      default: [],
      maxItems: 20,
      description:
        'The providers whose ID tokens log users in. A token is matched by its `iss`; when several entries share an issuer (one per client id), the entry whose client id the token names in `aud` is used.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'ID tokens of the app’s OpenID Connect providers.' },
);

export type OidcSettings = Static<typeof OidcSettings>;
