import type { IncomingMessage } from 'node:http';
import proxyaddr from '@fastify/proxy-addr';
import type { ProxyTrust } from '../config/proxy-trust.js';

/**
 * The client address of a raw request (the realtime upgrade), as Fastify's `request.ip` gives
 * it with the same trust: REST and the realtime gateway count the same client the same way.
 */
export function clientAddressOf(trust: ProxyTrust): (request: IncomingMessage) => string | null {
  if (trust === false) return (request) => request.socket.remoteAddress ?? null;
  const trusts = trust === true ? () => true : proxyaddr.compile(trust);
  return (request) => (request.socket.remoteAddress === undefined ? null : proxyaddr(request, trusts));
}
