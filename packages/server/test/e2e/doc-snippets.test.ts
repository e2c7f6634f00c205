import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import {
  docPagesWithSnippets,
  outputsBySnippet,
  pageScript,
  parseDocPage,
  SNIPPET_END,
  type DocPage,
} from '../helpers/doc-snippets.js';
import { startTestServer, TEST_MASTER_KEY } from '../helpers/server.js';

const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const pages = docPagesWithSnippets(repositoryRoot);

/** Commands that set up a machine or run for long (they are fenced `console`): running them here would install, serve forever or recurse. */
const NOT_FOR_THIS_TEST = /\b(npm (install|ci|start|test|run (bench|build|test))|sudo|systemctl|docker|git clone)\b/;
/** A bound, not a deadline: a page takes seconds (guide.md, whose CLI commands each check the build, the most). */
const PAGE_TIMEOUT_MS = 240_000;

/**
 * What a reader's shell holds when they follow the docs: the credentials the first start
 * printed (README, "Set up"), and for the `tessera` CLI the same data folder and master key as
 * the server.
 */
function readerEnvironment(server: Awaited<ReturnType<typeof startTestServer>>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PK: server.publishableKey,
    SK: server.secretKey,
    ADMIN_TOKEN: server.adminToken,
    TESSERA_DATA_DIR: server.dataDir,
    TESSERA_MASTER_KEY: TEST_MASTER_KEY,
    ...(server.databaseUrl === undefined ? {} : { TESSERA_DATABASE_URL: server.databaseUrl }),
  };
}

/** The page's script in bash; stdin is not a socket, so bash reads no bashrc (it would for a socket, taking it for ssh). */
function bash(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: repositoryRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: PAGE_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function runPage(page: DocPage): Promise<{ outputs: string[]; failure?: string }> {
  const server = await startTestServer(backends[0]!);
  try {
    const { code, signal, stdout, stderr } = await bash(pageScript(page, server.url), readerEnvironment(server));
    return {
      outputs: outputsBySnippet(stdout),
      ...(code === 0 ? {} : { failure: `exit ${code ?? signal}\n${stderr}` }),
    };
  } finally {
    await server.close();
  }
}

// issue 12: snippets in docs/login failed when pasted (unset variables, a wrong header); now every one runs here.
describe(
  'every shell snippet in the README and docs/, pasted into a shell next to a running server',
  { timeout: 300_000 },
  () => {
    it('finds the pages', () => {
      expect(pages.map((page) => page.path)).toEqual(
        expect.arrayContaining([
          'README.md',
          'docs/guide.md',
          'docs/login/anonymous.md',
          'docs/login/auth-token.md',
          'docs/login/key.md',
          'docs/login/password.md',
        ]),
      );
    });

    for (const page of pages) {
      it(page.path, async () => {
        for (const snippet of page.snippets)
          expect(snippet.code, `${page.path}:${snippet.line}: fence it as console, not sh`).not.toMatch(
            NOT_FOR_THIS_TEST,
          );
        const { outputs, failure } = await runPage(page);
        const failedAt = page.snippets[outputs.length];
        expect(
          failure,
          `the snippet at ${page.path}:${failedAt?.line ?? '?'} failed: ${failure}\nthe page's output so far:\n${outputs.join('\n---\n')}`,
        ).toBeUndefined();
        page.snippets.forEach((snippet, index) => {
          const output = outputs[index]!;
          const where = `${page.path}:${snippet.line} printed:\n${output}\n`;
          for (const expected of snippet.expectedOutput) {
            if (typeof expected === 'string') expect(output, where).toContain(expected);
            else expect(output, where).toMatch(expected);
          }
          if (output !== '')
            expect(
              snippet.expectedOutput,
              `${where}and says nothing of what it prints (<!-- snippet output: … -->)`,
            ).not.toEqual([]);
          if (output.includes('"error":{'))
            expect(
              snippet.expectedOutput.some((text) => typeof text === 'string' && text.includes('"code":"')),
              `${where}an error the page does not expect`,
            ).toBe(true);
        });
      });
    }
  },
);

describe("reading a page's snippets", () => {
  const page = parseDocPage(
    'docs/example.md',
    [
      'Intro.',
      '<!-- snippet prelude:',
      'TOKEN=from-elsewhere',
      '-->',
      '```sh',
      'curl -s "http://127.0.0.1:3000/v1/x"',
      '```',
      '<!-- snippet output: "ok":true -->',
      '<!-- snippet output matches: ^\\d+$ -->',
      '',
      '```console',
      'sudo systemctl restart tessera',
      '```',
      '```sh',
      'echo "$TOKEN"',
      '```',
      '',
    ].join('\n'),
  );

  it("takes sh blocks only, with their line, expectations and the page's prelude", () => {
    expect(page.prelude).toBe('TOKEN=from-elsewhere\n');
    expect(page.snippets).toEqual([
      { line: 5, code: 'curl -s "http://127.0.0.1:3000/v1/x"\n', expectedOutput: ['"ok":true', /^\d+$/m] },
      { line: 14, code: 'echo "$TOKEN"\n', expectedOutput: [] },
    ]);
  });

  it('points the snippets at the test server and splits the output by snippet', () => {
    const script = pageScript(page, 'http://127.0.0.1:4321');
    expect(script).toContain('curl -s "http://127.0.0.1:4321/v1/x"');
    expect(outputsBySnippet(`{"ok":true}\n${SNIPPET_END}\nfrom-elsewhere\n\n${SNIPPET_END}\n`)).toEqual([
      '{"ok":true}',
      'from-elsewhere',
    ]);
    expect(outputsBySnippet(`{"ok":true}\n${SNIPPET_END}\npartial`)).toEqual(['{"ok":true}']);
  });
});
