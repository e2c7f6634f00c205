import Type, { type Static } from 'typebox';
import { secretString } from '../../../apps/secret-settings.js';
import { outboundUrlProblem, type OutboundUrlProblem } from '../../remote/outbound-url.js';
import { enabledFlag } from '../enabled-flag.js';
import { publicKeyEntryProblem, secretProblem } from './key-config.js';

/*
 * Per-app settings of the `jwt` strategy: the app's trusted issuers. Key material is checked
 * here (TypeBox refinements), so a short secret, a private key or a key that does not fit its
 * algorithm is refused by the admin PATCH that sets it, with the path of the entry at fault.
 */

const Kid = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: '^[\\x21-\\x7e]+$',
  description: "Key id: the token header's `kid`.",
});
// Spelled out (not mapped from algorithms.ts) so that the static types keep each literal; the
// key checks take algorithms.ts's types, so the compiler refuses an algorithm only one side knows.
const HmacAlg = Type.Union([Type.Literal('HS256'), Type.Literal('HS384'), Type.Literal('HS512')]);
const AsymmetricAlg = Type.Union([
  Type.Literal('RS256'),
  Type.Literal('RS384'),
  Type.Literal('RS512'),
  Type.Literal('PS256'),
  Type.Literal('PS384'),
  Type.Literal('PS512'),
  Type.Literal('ES256'),
  Type.Literal('ES384'),
  Type.Literal('ES512'),
  Type.Literal('EdDSA'),
]);

const CLAIM_PATH =
  'A claim name, or a dotted path into nested claims (`grants.apiRTC_UserAgent_Id`). A claim whose own name contains dots is matched whole first.';
const ClaimPath = (options: { default?: string; description?: string } = {}) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: '^\\S+$', description: CLAIM_PATH, ...options });
const MappedClaim = (byDefault: string, description: string) =>
  Type.Union([ClaimPath(), Type.Null()], { default: byDefault, description: `${description} null: not mapped.` });

/** Ten years: longer is no limit at all. */
const MAX_TOKEN_LIFETIME = 10 * 366 * 24 * 3600;

/** An opted-in RSA exponent; 1 (which any "signature" satisfies) is below the minimum, and even ones are refused with the key. */
const RsaExponent = (description: string) =>
  Type.Integer({ minimum: 3, maximum: Number.MAX_SAFE_INTEGER, description });

const SecretKey = Type.Refine(
  Type.Object(
    {
      kid: Type.Optional(Kid),
      alg: HmacAlg,
      secret: secretString({
        minLength: 1,
        maxLength: 2048,
        description:
          'The shared secret. At least 32, 48 or 64 bytes for HS256, HS384, HS512, and random: a repeated pattern, few distinct characters, low entropy, or a PEM block or JWK is refused (openssl rand -base64 32). Encrypted at rest; the admin API shows it masked.',
      }),
      encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64url'), Type.Literal('base64')], {
        default: 'utf8',
        description:
          'How `secret` is written: utf8 (as jsonwebtoken takes a string), or the bytes in base64url / base64.',
      }),
    },
    { additionalProperties: false },
  ),
  (entry) => secretProblem(entry) === undefined,
  (entry) => secretProblem(entry) ?? '',
);

const PublicKey = Type.Refine(
  Type.Object(
    {
      kid: Kid,
      alg: AsymmetricAlg,
      jwk: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The public key as a JWK.' })),
      pem: Type.Optional(Type.String({ maxLength: 16384, description: 'The public key (or a certificate) in PEM.' })),
      rsaExponent: Type.Optional(
        RsaExponent(
          'Opt-in for an RSA key whose public exponent is not 65537: that exponent (odd, at least 3). Without it only 65537 is accepted.',
        ),
      ),
    },
    { additionalProperties: false },
  ),
  (entry) => publicKeyEntryProblem(entry) === undefined,
  (entry) => publicKeyEntryProblem(entry) ?? '',
);

const Jwks = Type.Refine(
  Type.Object(
    {
      url: Type.String({
        maxLength: 2048,
        description:
          "HTTPS URL of the issuer's JSON Web Key Set (plain HTTP only on a loopback address). Redirects are refused.",
      }),
      algorithms: Type.Array(AsymmetricAlg, {
        minItems: 1,
        uniqueItems: true,
        default: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        description: 'Algorithms accepted with these keys.',
      }),
      cacheMaxAge: Type.Integer({
        default: 600,
        minimum: 30,
        maximum: 86_400,
        description: 'Seconds a fetched key set is used before it is fetched again.',
      }),
      cooldown: Type.Integer({
        default: 30,
        minimum: 1,
        maximum: 3600,
        description: 'Least seconds between two fetches, whatever unknown `kid` tokens show.',
      }),
      timeout: Type.Number({ default: 3, minimum: 0.05, maximum: 30, description: 'Seconds to wait for the key set.' }),
      rsaExponents: Type.Optional(
        Type.Array(RsaExponent('An RSA public exponent besides 65537.'), {
          maxItems: 4,
          uniqueItems: true,
          description:
            "Opt-in: RSA public exponents (odd, at least 3) accepted for the set's keys besides 65537. Keys with any other exponent are skipped and logged.",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  (jwks) => jwksUrlProblem(jwks.url) === undefined,
  (jwks) => `url ${jwksUrlProblem(jwks.url) ?? ''}`,
);

const ProfileClaims = Type.Object(
  {
    displayName: MappedClaim('displayName', "Display name; becomes the user's full name."),
    fullName: MappedClaim('name', 'Full name, used when there is no display name.'),
    firstName: MappedClaim(
      'firstName',
      'First name; with the last name, the full name when neither of the above is given.',
    ),
    lastName: MappedClaim('lastName', 'Last name.'),
    email: MappedClaim('email', 'Email address.'),
    groups: MappedClaim('groups', "A list of group names; becomes the user's tags."),
    roles: Type.Union([ClaimPath(), Type.Null()], {
      default: null,
      description:
        "A list of role names (or one name) that becomes the user's roles at each login (`roles`, `realm_access.roles`); a token without it means no roles. null (the default): roles are not taken from this issuer.",
    }),
    externalId: Type.Optional(
      Type.Union([ClaimPath(), Type.Null()], {
        description:
          "The app's own id of the user (a string of the externalId form, or an integer); becomes its externalId. Absent or null: not mapped.",
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'Which claims fill the profile of users from this issuer.' },
);

const TrustedIssuer = Type.Refine(
  Type.Object(
    {
      id: Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[a-z0-9][a-z0-9._-]*$',
        description: 'Names the issuer in login bodies (`issuer`) and links users as provider `jwt:<id>`.',
      }),
      issuer: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 1024,
          description: 'Expected `iss`. When set, a token without it or with another is refused.',
        }),
      ),
      audience: Type.Union(
        [
          Type.String({ minLength: 1, maxLength: 1024 }),
          Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { minItems: 1, maxItems: 10 }),
        ],
        {
          description: 'Expected `aud` (required): the token must name one of these.',
        },
      ),
      secrets: Type.Optional(
        Type.Array(SecretKey, {
          minItems: 1,
          maxItems: 4,
          description: 'HMAC shared secrets (several while rotating).',
        }),
      ),
      publicKeys: Type.Optional(
        Type.Array(PublicKey, { minItems: 1, maxItems: 20, description: "Public keys, chosen by the token's `kid`." }),
      ),
      jwks: Type.Optional(Jwks),
      userIdClaim: ClaimPath({
        default: 'sub',
        description: `The claim that holds the user's id at the issuer. ${CLAIM_PATH}`,
      }),
      claims: ProfileClaims,
      requirePublishableKeySubject: Type.Boolean({
        default: false,
        description: 'ApiRTC style: `sub` must be a live publishable key of this app.',
      }),
      requireExpiry: Type.Boolean({ default: true, description: 'Refuse tokens without `exp`.' }),
      clockSkew: Type.Integer({
        default: 30,
        minimum: 0,
        maximum: 300,
        description: 'Seconds of leeway on `exp`, `nbf` and `iat`.',
      }),
      maxTokenLifetime: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: MAX_TOKEN_LIFETIME,
          description:
            'Seconds a token may live (exp − iat) at most. When set, a token without iat or exp is refused. Unset: no limit.',
        }),
      ),
      singleUse: Type.Boolean({
        default: false,
        description: 'Each `jti` logs in once; tokens without `jti` or `exp` are refused.',
      }),
      autoProvision: Type.Optional(
        Type.Boolean({ description: "Create a user on a first login. Unset: the app's autoProvisionUsers." }),
      ),
      matchExistingUserBy: Type.Union(
        [Type.Literal('id'), Type.Literal('username'), Type.Literal('externalId'), Type.Null()],
        {
          default: null,
          description:
            "When no user is linked to the token's user id yet, link the user whose Tessera id (or username, or externalId) equals it. null: never.",
        },
      ),
      updateProfile: Type.Boolean({ default: true, description: 'Refresh the profile from the claims at each login.' }),
    },
    { additionalProperties: false },
  ),
  (issuer) => issuerProblem(issuer) === undefined,
  (issuer) => issuerProblem(issuer) ?? '',
);

/** Per-app settings of the `jwt` strategy. */
export const JwtSettings = Type.Refine(
  Type.Object(
    {
      enabled: enabledFlag(false),
      issuers: Type.Array(TrustedIssuer, {
        default: [],
        maxItems: 10,
        description: 'The external systems whose tokens this app accepts.',
      }),
    },
    { additionalProperties: false, default: {}, description: 'Tokens of the app’s trusted issuers.' },
  ),
  (settings) => duplicate(settings.issuers.map((issuer) => issuer.id)) === undefined,
  (settings) =>
    `issuers: the id ${JSON.stringify(duplicate(settings.issuers.map((issuer) => issuer.id)))} is used twice`,
);

export type JwtSettings = Static<typeof JwtSettings>;
export type TrustedIssuerSettings = JwtSettings['issuers'][number];

function issuerProblem(issuer: {
  secrets?: unknown[] | undefined;
  publicKeys?: { kid: string }[] | undefined;
  jwks?: unknown;
}): string | undefined {
  const sources = [issuer.secrets, issuer.publicKeys, issuer.jwks].filter((source) => source !== undefined).length;
  if (sources !== 1) return 'give exactly one of secrets, publicKeys or jwks';
  const kid = duplicate((issuer.publicKeys ?? []).map((key) => key.kid));
  return kid === undefined ? undefined : `publicKeys: the kid ${JSON.stringify(kid)} is used twice`;
}

/** How a refused JWKS URL is explained in the settings error (`…jwks: url must be https…`). */
const JWKS_URL_PROBLEMS: Record<OutboundUrlProblem, string> = {
  not_a_url: 'is not a URL',
  credentials: 'must not carry credentials',
  scheme: 'must be https (plain http only on localhost)',
};

function jwksUrlProblem(text: string): string | undefined {
  // Keys fetched over plain HTTP could be swapped on the way; only a loopback address is safe.
  const problem = outboundUrlProblem(text, { plainHttp: 'loopback_only' });
  return problem === undefined ? undefined : JWKS_URL_PROBLEMS[problem];
}

function duplicate(values: string[]): string | undefined {
  return values.find((value, index) => values.indexOf(value) !== index);
}
