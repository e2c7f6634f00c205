import Type, { type Static } from 'typebox';
import { secretString } from '../../../apps/secret-settings.js';
import { outboundUrlProblem } from '../../remote/outbound-url.js';
import { enabledFlag } from '../enabled-flag.js';

/** A field of the identity provider's JSON answer: a name, or a dotted path such as `user.id`. */
const answerPath = (options: { default?: string; description?: string } = {}) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*$', ...options });
const optionalAnswerPath = (name: string, byDefault: string) =>
  Type.Union([answerPath(), Type.Null()], {
    default: byDefault,
    description: `Field of the answer holding the user's ${name}; null to ignore it.`,
  });

/** Header names Tessera sets itself or that only the HTTP layer may set. Compared lowercased. */
export const RESERVED_HEADERS = new Set([
  'host',
  'accept',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'accept-encoding',
  'proxy-authorization',
  'proxy-connection',
]);

const HeaderName = Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$" });
// Visible ASCII only (a header value may not break the request), and a secret: masked by the
// admin API, encrypted at rest.
const HeaderValue = secretString({
  minLength: 1,
  maxLength: 1024,
  pattern: '^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$',
});

const Header = Type.Object({ name: HeaderName, value: HeaderValue }, { additionalProperties: false });

const Headers = Type.Refine(
  Type.Array(Header, {
    maxItems: 16,
    default: [],
    description:
      'Static headers sent with every call, e.g. a shared secret, as `{ name, value }` pairs. A patch replaces the whole list. Never logged; encrypted at rest; the admin API shows the values masked.',
  }),
  (headers) =>
    headers.every(
      ({ name }, index) =>
        !RESERVED_HEADERS.has(name.toLowerCase()) &&
        headers.findIndex((other) => other.name.toLowerCase() === name.toLowerCase()) === index,
    ),
  (headers) => {
    const reserved = headers.find(({ name }) => RESERVED_HEADERS.has(name.toLowerCase()));
    return reserved === undefined
      ? 'headers may not name the same header twice'
      : `headers may not set ${reserved.name}: Tessera sets it`;
  },
);

const CustomSettingsObject = Type.Object(
  {
    enabled: enabledFlag(false),
    url: Type.Optional(
      Type.String({
        maxLength: 2048,
        pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$',
        description: 'The webhook Tessera POSTs `{ "token": … }` to. Required when enabled.',
      }),
    ),
    timeoutMs: Type.Integer({
      default: 3000,
      minimum: 100,
      maximum: 10_000,
      description: 'How long to wait for the whole answer, in milliseconds.',
    }),
    maxResponseBytes: Type.Integer({
      default: 64 * 1024,
      minimum: 1024,
      maximum: 1024 * 1024,
      description: 'Largest answer body read; a longer one is refused.',
    }),
    headers: Headers,
    mapping: Type.Object(
      {
        id: answerPath({
          default: 'id',
          description: 'Field of the answer holding the stable user id (string or integer). Required in every answer.',
        }),
        login: optionalAnswerPath('login (becomes the username)', 'login'),
        email: optionalAnswerPath('email', 'email'),
        fullName: optionalAnswerPath('full name', 'full_name'),
        externalId: Type.Optional(
          Type.Union([answerPath(), Type.Null()], {
            description:
              "Field of the answer holding the app's own id of the user (string or integer); becomes its externalId. Absent or null: ignored.",
          }),
        ),
      },
      { additionalProperties: false, default: {}, description: 'Where each user field is in the answer.' },
    ),
    autoProvision: Type.Union([Type.Boolean(), Type.Null()], {
      default: null,
      description: 'Whether an unknown id creates a user; null: the app-wide autoProvisionUsers decides.',
    }),
    matchExistingUserBy: Type.Optional(
      Type.Union([Type.Literal('id'), Type.Literal('username'), Type.Literal('externalId'), Type.Null()], {
        description:
          'When no user is linked to the answered id yet, link the user whose Tessera id (or username, or externalId) equals it. Absent or null: never.',
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Opaque tokens vouched for by the app’s own identity-provider webhook.',
  },
);

/** Per-app settings of the `custom` strategy. */
export const CustomSettings = Type.Refine(
  CustomSettingsObject,
  (settings) => validUrl(settings.url) && (!settings.enabled || settings.url !== undefined),
  (settings) =>
    settings.url === undefined
      ? 'url is required when the custom strategy is enabled'
      : 'url must be an absolute http or https URL without user name or password',
);

export type CustomSettings = Static<typeof CustomSettingsObject>;

/** Plain http to any host is allowed: the webhook is the app's own service, often on its private network. */
function validUrl(url: string | undefined): boolean {
  return url === undefined || outboundUrlProblem(url, { plainHttp: 'any_host' }) === undefined;
}
