import { readFileSync } from 'node:fs';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backends } from '../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import * as client from '../src/index.js';

type Example = (sdk: typeof client, ws: typeof WebSocket, console: { log(line: string): void }) => Promise<void>;

/**
 * The README's Node.js example, as a user copies it, with the test server's address and key:
 * its imports are handed in, the rest runs unchanged.
 */
async function readmeExample(url: string, key: string): Promise<Example> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = /<!-- readme-example: start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-example: end -->/.exec(readme);
  if (section === null) throw new Error('packages/client/README.md has no example section');
  const source = section[1]!
    .replace(/^import \{([^}]+)\} from '@tessera\/client';$/m, 'const {$1} = sdk;')
    .replace(/^import WebSocket from 'ws';$/m, 'const WebSocket = ws;')
    .replaceAll("'http://127.0.0.1:3000'", JSON.stringify(url))
    .replaceAll("'pk_…'", JSON.stringify(key));
  expect(source).not.toMatch(/^import /m);
  const { code } = await transform(source, { loader: 'ts', format: 'esm' });
  const AsyncFunction = (
    Object.getPrototypeOf(async () => undefined) as { constructor: new (...parameters: string[]) => Example }
  ).constructor;
  return new AsyncFunction('sdk', 'ws', 'console', code);
}

describe('the README of @tessera/client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backends[0]!);
  });
  afterAll(() => server.close());

  it('runs its quick start as written', async () => {
    const lines: string[] = [];
    const example = await readmeExample(server.url, server.publishableKey);
    await example(client, WebSocket, { log: (line) => lines.push(line) });
    expect(lines).toEqual([
      'Hello, Grace Hopper',
      '1 user online',
      'refused: invalid_credentials',
      'realtime closed: logged_out',
    ]);
  });
});
