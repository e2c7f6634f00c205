import ipaddr from 'ipaddr.js';

/** Hextets of an IPv6 address that name its /64: what one subscriber is usually given. */
const IPV6_NETWORK_HEXTETS = 4;

/**
 * The key under which a client address is counted. An IPv4 address (also written IPv4-mapped,
 * `::ffff:1.2.3.4`) counts alone; an IPv6 address counts with its /64, since one subscriber
 * usually holds a whole /64 and could otherwise take a new address for every request. Text that
 * is not an address (never from a socket) counts as itself.
 */
export function addressGroup(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, IPV6_NETWORK_HEXTETS);
  return `${parts.map((part) => part.toString(16)).join(':')}::/64`;
}
