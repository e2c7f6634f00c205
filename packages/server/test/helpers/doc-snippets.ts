import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The shell snippets of a Markdown page, as a reader pastes them: every ```sh block, in order,
 * into one shell. Two HTML comments (invisible on the rendered page) tell the test more:
 *
 * - `<!-- snippet output: TEXT -->` right after a block (one comment per expected text): the
 *   block's output must contain TEXT; `<!-- snippet output matches: REGEX -->`: it must match
 *   REGEX (multiline). A block that prints anything must say what. A block whose output holds
 *   an error envelope (`"error":{`) fails unless one of its expected texts names the error's
 *   `"code"`.
 * - `<!-- snippet prelude: … -->` anywhere on the page: shell run before the page's blocks, for
 *   what a reader has from elsewhere (a token an identity provider issued, say). The page
 *   states in prose what the prelude stands for.
 *
 * Blocks that are not for pasting into a shell next to a running server (a unit file, a config
 * file, commands that install a machine) use another fence language: `console`, `ini`, `text`.
 */
export interface ShellSnippet {
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** Texts the output contains, or patterns it matches. */
  expectedOutput: (string | RegExp)[];
}

export interface DocPage {
  /** Path from the repository root. */
  path: string;
  prelude: string;
  snippets: ShellSnippet[];
}

const FENCE = /^```sh\n([\s\S]*?)^```\n/gm;
const EXPECTATION = /^\s*<!-- snippet output( matches)?: ([\s\S]*?) -->\n?/;
const PRELUDE = /<!-- snippet prelude:\n([\s\S]*?)-->/g;

export function parseDocPage(path: string, markdown: string): DocPage {
  const snippets: ShellSnippet[] = [];
  for (const match of markdown.matchAll(FENCE)) {
    const expectedOutput: (string | RegExp)[] = [];
    let rest = markdown.slice(match.index + match[0].length);
    for (let expectation = EXPECTATION.exec(rest); expectation !== null; expectation = EXPECTATION.exec(rest)) {
      expectedOutput.push(expectation[1] === undefined ? expectation[2]! : new RegExp(expectation[2]!, 'm'));
      rest = rest.slice(expectation[0].length);
    }
    snippets.push({ line: markdown.slice(0, match.index).split('\n').length, code: match[1]!, expectedOutput });
  }
  const prelude = [...markdown.matchAll(PRELUDE)].map((match) => match[1]!).join('\n');
  return { path, prelude, snippets };
}

/** README.md and every page under docs/ that holds a shell snippet. */
export function docPagesWithSnippets(repositoryRoot: string): DocPage[] {
  const files = [join(repositoryRoot, 'README.md'), ...markdownFiles(join(repositoryRoot, 'docs'))];
  return files
    .map((file) => parseDocPage(relative(repositoryRoot, file), readFileSync(file, 'utf8')))
    .filter((page) => page.snippets.length > 0);
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? markdownFiles(join(dir, entry.name))
        : entry.name.endsWith('.md')
          ? [join(dir, entry.name)]
          : [],
    )
    .sort();
}

/** Between two snippets' output; no snippet prints it. */
export const SNIPPET_END = '@@tessera-snippet-end@@';

/** One script for the whole page: the prelude, then each snippet followed by a line that marks its end. */
export function pageScript(page: DocPage, baseUrl: string): string {
  const atServer = (code: string) => code.replaceAll('http://127.0.0.1:3000', baseUrl);
  const parts = [
    atServer(page.prelude),
    ...page.snippets.map((snippet) => `${atServer(snippet.code)}\nprintf '\\n%s\\n' '${SNIPPET_END}'`),
  ];
  return parts.join('\n');
}

/** What each snippet printed, from the page script's output; shorter than the snippets when the script stopped early. */
export function outputsBySnippet(stdout: string): string[] {
  const parts = stdout.split(`\n${SNIPPET_END}\n`);
  parts.pop();
  return parts.map((part) => part.trim());
}
