import proxyaddr from '@fastify/proxy-addr';

/** Who may set X-Forwarded-For: nobody, every hop (`true`), or the listed proxies. */
export type ProxyTrust = boolean | string[];

/**
 * The proxies whose X-Forwarded-For Tessera believes, from `trustProxy` and `trustedProxies`.
 * A list wins: the client is then the right-most address no listed proxy owns, so a client
 * that writes an X-Forwarded-For of its own (which most proxies append to) gains nothing.
 * `trustProxy` alone believes every hop and takes the left-most address: right only behind a
 * proxy that replaces the header.
 */
export function proxyTrust(config: { trustProxy: boolean; trustedProxies?: string | undefined }): ProxyTrust {
  const listed = parseTrustedProxies(config.trustedProxies);
  return listed.length > 0 ? listed : config.trustProxy;
}

/** `10.0.0.0/8, 192.168.1.7, loopback` → its entries; throws on one that is not an address, a range or a named range. */
export function parseTrustedProxies(value: string | undefined): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length > 0) proxyaddr.compile(entries);
  return entries;
}
