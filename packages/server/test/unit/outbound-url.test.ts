import { describe, expect, it } from 'vitest';
import { parseAppSettings } from '../../src/apps/settings.js';
import {
  loggableUrl,
  outboundUrlProblem,
  type OutboundUrlProblem,
  type PlainHttp,
} from '../../src/auth/remote/outbound-url.js';
import { isAllowedProviderUrl } from '../../src/auth/strategies/oidc/discovery.js';

// Issue 13: the rules for the URLs an app's settings make Tessera fetch, stated once (jwt, oidc, custom).

type Verdict = OutboundUrlProblem | 'ok';
const verdict = (url: string, plainHttp: PlainHttp): Verdict => outboundUrlProblem(url, { plainHttp }) ?? 'ok';

/** [url, under loopback_only (jwt, oidc), under any_host (custom)] */
const cases: [string, Verdict, Verdict][] = [
  // https goes anywhere, with any port; the scheme is case-insensitive.
  ['https://keys.example.com/jwks', 'ok', 'ok'],
  ['HTTPS://Keys.Example.com:8443/jwks?v=1#k', 'ok', 'ok'],
  ['https://keys.example.com:443/', 'ok', 'ok'],
  // An IDN is fetched as its punycode, a trailing dot kept: still https, still allowed.
  ['https://bücher.example/jwks', 'ok', 'ok'],
  ['https://xn--bcher-kva.example/jwks', 'ok', 'ok'],
  ['https://keys.example.com./jwks', 'ok', 'ok'],
  // Plain http: on a loopback host for jwt and oidc, anywhere for the app's own webhook.
  ['http://keys.example.com/jwks', 'scheme', 'ok'],
  ['http://10.0.0.7:8080/verify', 'scheme', 'ok'],
  ['http://localhost/jwks', 'ok', 'ok'],
  ['http://LOCALHOST:8080/jwks', 'ok', 'ok'],
  ['http://127.0.0.1:65535/jwks', 'ok', 'ok'],
  ['http://[::1]:3000/jwks', 'ok', 'ok'],
  // Loopback once parsed: these are spelled differently but are the same three hosts.
  ['http://127.1/jwks', 'ok', 'ok'],
  ['http://0x7f.0.0.1/jwks', 'ok', 'ok'],
  ['http://2130706433/jwks', 'ok', 'ok'],
  ['http://127.0.0.1./jwks', 'ok', 'ok'],
  ['http://[0:0:0:0:0:0:0:1]/jwks', 'ok', 'ok'],
  ['http://ｌｏｃａｌｈｏｓｔ/jwks', 'ok', 'ok'],
  // Not one of the three hosts: the rest of 127/8, a trailing dot on a name, look-alikes, wildcards.
  ['http://127.0.0.2/jwks', 'scheme', 'ok'],
  ['http://localhost./jwks', 'scheme', 'ok'],
  ['http://sub.localhost/jwks', 'scheme', 'ok'],
  ['http://localhost.example.com/jwks', 'scheme', 'ok'],
  ['http://lоcalhost/jwks', 'scheme', 'ok'], // Cyrillic о: xn--lcalhost-nbh
  ['http://[::ffff:127.0.0.1]/jwks', 'scheme', 'ok'],
  ['http://0.0.0.0/jwks', 'scheme', 'ok'],
  ['http://[::]/jwks', 'scheme', 'ok'],
  // Other schemes, whatever the host.
  ['ftp://keys.example.com/jwks', 'scheme', 'scheme'],
  ['ws://localhost/jwks', 'scheme', 'scheme'],
  ['wss://keys.example.com/jwks', 'scheme', 'scheme'],
  ['file:///etc/passwd', 'scheme', 'scheme'],
  ['javascript:alert(1)', 'scheme', 'scheme'],
  ['data:application/json,{}', 'scheme', 'scheme'],
  // User info, even empty-looking, even on loopback, even with another scheme (checked first).
  ['https://user@keys.example.com/jwks', 'credentials', 'credentials'],
  ['https://user:password@keys.example.com/jwks', 'credentials', 'credentials'],
  ['https://:password@keys.example.com/jwks', 'credentials', 'credentials'],
  ['http://user@localhost/jwks', 'credentials', 'credentials'],
  ['ftp://user@keys.example.com/', 'credentials', 'credentials'],
  // An empty user info is no user info: the URL is the same without it.
  ['https://@keys.example.com/jwks', 'ok', 'ok'],
  // Not absolute URLs, or not URLs: no host, a bad port, a bad IPv6 literal, a space in the host.
  ['not a url', 'not_a_url', 'not_a_url'],
  ['/jwks', 'not_a_url', 'not_a_url'],
  ['//keys.example.com/jwks', 'not_a_url', 'not_a_url'],
  ['', 'not_a_url', 'not_a_url'],
  ['http://', 'not_a_url', 'not_a_url'],
  ['http://:80/jwks', 'not_a_url', 'not_a_url'],
  ['http://localhost:65536/jwks', 'not_a_url', 'not_a_url'],
  ['https://keys.example.com:port/jwks', 'not_a_url', 'not_a_url'],
  ['http://[::1/jwks', 'not_a_url', 'not_a_url'],
  ['https://keys example.com/jwks', 'not_a_url', 'not_a_url'],
];

describe('outbound URL rules (issue 13)', () => {
  it.each(cases)('%s: %s for jwt and oidc, %s for the custom webhook', (url, loopbackOnly, anyHost) => {
    expect(verdict(url, 'loopback_only')).toBe(loopbackOnly);
    expect(verdict(url, 'any_host')).toBe(anyHost);
    expect(isAllowedProviderUrl(url)).toBe(loopbackOnly === 'ok');
  });

  it("explains a trusted issuer's refused JWKS URL in its settings error, as before", () => {
    const jwtWith = (url: string) => () =>
      parseAppSettings({ strategies: { jwt: { issuers: [{ id: 'x', audience: 'a', jwks: { url } }] } } });
    const at = 'strategies.jwt.issuers.0.jwks: url ';
    expect(jwtWith('not a url')).toThrow(`${at}is not a URL`);
    expect(jwtWith('https://user:pw@keys.example.com')).toThrow(`${at}must not carry credentials`);
    expect(jwtWith('http://keys.example.com')).toThrow(`${at}must be https (plain http only on localhost)`);
    expect(jwtWith('ftp://keys.example.com')).toThrow(`${at}must be https (plain http only on localhost)`);
    expect(jwtWith('http://127.0.0.1:8080/jwks')).not.toThrow();
  });

  it("explains the custom strategy's refused webhook URL in its settings error, as before", () => {
    const customWith = (url: string) => () => parseAppSettings({ strategies: { custom: { url } } });
    const message = 'url must be an absolute http or https URL without user name or password';
    expect(customWith('https://user:pw@idp.example.com/verify')).toThrow(message);
    // Passes the schema's `http(s)://` pattern, but is no URL.
    expect(customWith('http://idp.example.com:99999/verify')).toThrow(message);
    expect(customWith('http://idp.example.com/verify')).not.toThrow();
  });

  it('logs a URL without its query and fragment, which may hold a secret', () => {
    expect(loggableUrl('https://idp.example.com:8443/verify?key=s3cret#frag')).toBe(
      'https://idp.example.com:8443/verify',
    );
    expect(loggableUrl('http://user:pw@127.0.0.1/verify')).toBe('http://127.0.0.1/verify');
    expect(loggableUrl('not a url')).toBe('(not a URL)');
  });
});
