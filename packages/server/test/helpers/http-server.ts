import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a test server does with one request. */
export type Route = (response: ServerResponse) => void;

/** A route that answers JSON with a status. */
export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Route =>
  (response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };

/**
 * A real HTTP server on 127.0.0.1 for the systems Tessera calls out to (a JWKS endpoint, an
 * identity-provider webhook). It can hold responses without answering, for timeouts; those are
 * cut when it closes.
 */
export class LoopbackHttpServer {
  private readonly held: ServerResponse[] = [];
  private server: Server | undefined;
  url = '';

  async start(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<void> {
    const server = createServer(handle);
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** A route that never answers; released when the server closes. */
  hold(): Route {
    return (response) => {
      this.held.push(response);
    };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    for (const response of this.held.splice(0)) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
