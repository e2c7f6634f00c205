import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const PAGE = readFileSync(new URL('../../../../docs/verifier.md', import.meta.url), 'utf8');
const HERE = fileURLToPath(new URL('./', import.meta.url));

/** The ts blocks of the page's "## Integrations" section that import the verifier: the server examples. */
function serverExamples(): string[] {
  const section = PAGE.slice(PAGE.indexOf('\n## Integrations\n'));
  return [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1]!)
    .filter((source) => source.includes("from '@tessera/verifier"));
}

/** The type errors of `sources`, compiled as ES modules of this package against the real libraries. */
function typeErrors(sources: string[]): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['tessera-source'],
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    types: ['node'],
    noEmit: true,
  };
  const files = new Map(sources.map((source, index) => [`${HERE}doc-example-${index}.ts`, source]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.getSourceFile = (name, version, ...rest) => {
    const source = files.get(name);
    return source === undefined ? getSourceFile(name, version, ...rest) : ts.createSourceFile(name, source, version);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file !== undefined && files.has(diagnostic.file.fileName))
    .map((diagnostic) => {
      const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return `${diagnostic.file!.fileName.slice(HERE.length)}:${line + 1} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
}

// issue 15 item 7: docs/verifier.md has a complete example per integration, and each one compiles.
describe("docs/verifier.md's integration examples", () => {
  it('has a server example for each integration, and each type-checks against the real library', () => {
    const examples = serverExamples();
    for (const entry of ['ws', 'socket.io', 'fastify', 'express', 'feathers'])
      expect(
        examples.some((source) => source.includes(`from '@tessera/verifier/${entry}'`)),
        entry,
      ).toBe(true);
    expect(typeErrors(examples)).toEqual([]);
  });
});
