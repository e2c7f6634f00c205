import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);

/** The README's curl walk-through, exactly as a user pastes it, with the test server's address. */
function walkthrough(baseUrl: string): string {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
  const section = /<!-- readme-walkthrough: start -->\s*```sh\n([\s\S]*?)```\s*<!-- readme-walkthrough: end -->/.exec(readme);
  if (section === null) throw new Error('README.md has no walk-through section');
  return section[1]!.replaceAll('http://127.0.0.1:3000', baseUrl);
}

describe('the README walk-through', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backends[0]!);
  });
  afterAll(() => server.close());

  it('signs up, logs in, reads /me and logs out when pasted into a shell', async () => {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', walkthrough(server.url)], { env: { ...process.env, PK: server.publishableKey } });
    const [signup, me, logout, afterLogout] = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(signup).toMatchObject({ email: 'ada@example.com', fullName: 'Ada Lovelace' });
    expect(me).toMatchObject({ email: 'ada@example.com' });
    expect(logout).toMatchObject({ sessionId: expect.any(String) });
    expect(afterLogout).toMatchObject({ error: { code: 'session_revoked', status: 401 } });
  });
});
