import { createHmac } from 'node:crypto';
import { json, LoopbackHttpServer, type Route } from './http-server.js';

/** Tools for tests of the `jwt` strategy: tokens made by hand, and an issuer's JWKS endpoint. */

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/**
 * An HS256 token whose header and payload are exactly the JSON text given (objects are
 * stringified), correctly signed: a refusal of it can only come from the checks under test.
 */
export function handMade(
  header: object | string,
  payload: object | string,
  secret: string,
  alg: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const text = (part: object | string) => (typeof part === 'string' ? part : JSON.stringify(part));
  const signingInput = `${b64(text(header))}.${b64(text(payload))}`;
  return `${signingInput}.${sign(signingInput, secret, alg)}`;
}

/** Re-signs already-encoded segments (to test spellings of base64url). */
export function signSegments(header: string, payload: string, secret: string): string {
  return `${header}.${payload}.${sign(`${header}.${payload}`, secret, 'sha256')}`;
}

function sign(signingInput: string, secret: string, alg: 'sha256' | 'sha384' | 'sha512'): string {
  return createHmac(alg, secret).update(signingInput).digest('base64url');
}

export { json, type Route } from './http-server.js';

/** An issuer's web server on 127.0.0.1: answers by path, and counts every request it gets. */
export class IssuerServer extends LoopbackHttpServer {
  readonly routes = new Map<string, Route>();
  readonly hits: string[] = [];

  override async start(): Promise<void> {
    await super.start((request, response) => {
      const path = request.url ?? '';
      this.hits.push(path);
      const route = this.routes.get(path);
      if (route === undefined) json(404, { error: 'not found' })(response);
      else route(response);
    });
  }

  count(path: string): number {
    return this.hits.filter((hit) => hit === path).length;
  }
}
