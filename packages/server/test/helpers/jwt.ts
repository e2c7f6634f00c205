import { createHmac } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Tools for tests of the `jwt` strategy: tokens made by hand, and an issuer's JWKS endpoint. */

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/**
 * An HS256 token whose header and payload are exactly the JSON text given (objects are
 * stringified), correctly signed: a refusal of it can only come from the checks under test.
 */
export function handMade(header: object | string, payload: object | string, secret: string, alg: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
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

/** What the JWKS server answers at a path. */
export type Route = (response: ServerResponse) => void;

export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Route =>
  (response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };

/** An issuer's web server on 127.0.0.1: answers by path, and counts every request it gets. */
export class IssuerServer {
  readonly routes = new Map<string, Route>();
  readonly hits: string[] = [];
  private readonly held: ServerResponse[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const path = request.url ?? '';
      this.hits.push(path);
      const route = this.routes.get(path);
      if (route === undefined) json(404, { error: 'not found' })(response);
      else route(response);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(path: string): number {
    return this.hits.filter((hit) => hit === path).length;
  }

  /** A route that never answers (for timeouts); released when the server closes. */
  hold(): Route {
    return (response) => {
      this.held.push(response);
    };
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
