import { readFileSync } from 'node:fs';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { signUpAndLogIn } from '../../server/test/helpers/users.js';
import * as verifier from '../src/index.js';

type Example = (
  sdk: typeof verifier,
  accessToken: string,
  console: { log(...values: unknown[]): void },
) => Promise<void>;

/** The README's quick start as a user copies it, with the test server's address; its import is handed in. */
async function readmeExample(url: string): Promise<Example> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = /<!-- readme-example: start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-example: end -->/.exec(readme);
  if (section === null) throw new Error('packages/verifier/README.md has no example section');
  const source = section[1]!
    .replace(/^import \{([^}]+)\} from '@tessera\/verifier';$/m, 'const {$1} = sdk;')
    .replaceAll("'http://127.0.0.1:3000'", JSON.stringify(url));
  expect(source).not.toMatch(/^import /m);
  const { code } = await transform(source, { loader: 'ts', format: 'esm' });
  const AsyncFunction = (
    Object.getPrototypeOf(async () => undefined) as { constructor: new (...parameters: string[]) => Example }
  ).constructor;
  return new AsyncFunction('sdk', 'accessToken', 'console', code);
}

// issue 15 (convention 13): the verifier's README example runs as written.
describe('the README of @tessera/verifier', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backends[0]!);
  });
  afterAll(() => server.close());

  it('runs its quick start as written, with a genuine token and a made-up one', async () => {
    const { user, login } = await signUpAndLogIn(server);
    const example = await readmeExample(server.url);
    const lines: string[] = [];
    const console = {
      log: (...values: unknown[]) => lines.push(values.map((value) => JSON.stringify(value)).join(' ')),
    };
    await example(verifier, login.accessToken, console);
    await example(verifier, 'not-a-token', console);
    expect(lines).toEqual([`"${user.id}" "${login.session.id}" []`, '"invalid_token" 401']);
  });
});
