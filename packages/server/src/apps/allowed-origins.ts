import Type from 'typebox';
import { TesseraError } from '../errors.js';

/** The one entry that allows pages of every origin. */
export const ANY_ORIGIN = '*';

/**
 * `settings.allowedOrigins`: the origins whose pages may call the app from a browser (REST with
 * CORS, and WebSocket upgrades), as Auth0's "Allowed Web Origins", Keycloak's "Web origins" and
 * Centrifugo's `allowed_origins`. An entry is compared with the `Origin` header as it is, so it
 * must be written as browsers send it: refining it here refuses an entry that could never match.
 */
export const AllowedOriginsSetting = Type.Refine(
  Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
    default: [],
    maxItems: 100,
    description:
      'Origins (`scheme://host[:port]`, no path) whose pages may call the app from a browser: REST answers them with CORS headers, and WebSocket upgrades from them are accepted. `["*"]` allows every origin. Empty: only pages on Tessera\'s own origin.',
  }),
  (origins) => allowedOriginsProblem(origins) === undefined,
  (origins) => allowedOriginsProblem(origins) ?? '',
);

/** Whether a page of `origin` (an `Origin` header) may call an app with this setting. */
export function originAllowed(allowedOrigins: readonly string[], origin: string): boolean {
  return allowedOrigins[0] === ANY_ORIGIN || allowedOrigins.includes(origin);
}

/** The refusal of a browser call from an origin the app does not allow; `origin` is the header, if any. */
export function originNotAllowed(origin: string | undefined): TesseraError {
  return new TesseraError('origin_not_allowed', {
    details: { origin: origin === undefined ? null : origin.slice(0, 256) },
  });
}

function allowedOriginsProblem(origins: readonly string[]): string | undefined {
  if (origins.includes(ANY_ORIGIN) && origins.length > 1) return '"*" allows every origin and must be the only entry';
  for (const entry of origins) {
    if (entry === ANY_ORIGIN) continue;
    const problem = originProblem(entry);
    if (problem !== undefined) return `${JSON.stringify(entry)} ${problem}`;
  }
  const repeated = origins.find((entry, index) => origins.indexOf(entry) !== index);
  return repeated === undefined ? undefined : `${JSON.stringify(repeated)} is listed twice`;
}

function originProblem(entry: string): string | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return 'is not an origin: write scheme://host[:port], e.g. https://app.example.com';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return 'is not an origin: the scheme must be https or http';
  // URL's origin is the form browsers send: lowercase, no default port, no path, no credentials.
  if (url.origin !== entry)
    return `is not an origin as browsers send it: write ${url.origin} (no path, no default port, lowercase host)`;
  return undefined;
}
