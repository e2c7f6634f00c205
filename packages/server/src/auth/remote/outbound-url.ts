/**
 * Which URLs an app's settings may make Tessera fetch (a trusted issuer's JWKS, an OpenID
 * provider's `jwks_uri`, the identity-provider webhook). The rules, in the order they are checked:
 * 1. the text is an absolute URL (WHATWG parsing, as `fetch` will read it);
 * 2. it carries no user name or password: credentials in a URL end up in logs and errors;
 * 3. its scheme is https, or http where the policy allows plain http: on a loopback host only,
 *    or (for a service the app runs itself, possibly on its private network) on any host.
 * A loopback host is `localhost`, `127.0.0.1` or `[::1]` once parsed, so `LOCALHOST`, `127.1`
 * and `[0:0::1]` are loopback too, while `localhost.`, `127.0.0.2` and `sub.localhost` are not.
 */

/** Where plain http is allowed: keys fetched over it could be swapped on the way, so by default only on loopback. */
export type PlainHttp = 'loopback_only' | 'any_host';

export interface OutboundUrlPolicy {
  plainHttp: PlainHttp;
}

/** The first rule a URL breaks: `not_a_url` (1), `credentials` (2), `scheme` (3). */
export type OutboundUrlProblem = 'not_a_url' | 'credentials' | 'scheme';

/** The hosts (as `URL.hostname` spells them) that reach this machine only. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The first rule `text` breaks under `policy`, or undefined when Tessera may fetch it. */
export function outboundUrlProblem(text: string, policy: OutboundUrlPolicy): OutboundUrlProblem | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not_a_url';
  }
  if (url.username !== '' || url.password !== '') return 'credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return 'scheme';
  return policy.plainHttp === 'any_host' || LOOPBACK_HOSTS.has(url.hostname) ? undefined : 'scheme';
}

/** The URL as a log may show it: without query and fragment, which may hold a secret (`?key=`). */
export function loggableUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(not a URL)';
  }
}
