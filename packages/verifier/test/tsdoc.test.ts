import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const sources = fileURLToPath(new URL('../src/', import.meta.url));
const entryOf = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));
const INTEGRATIONS = ['ws', 'socket.io', 'fastify', 'express', 'feathers'];

/** Every exported function, class, interface and their methods of `entry`, by name, with whether its TSDoc has an example. */
function documented(entry: string): Map<string, boolean> {
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const hasExample = (node: ts.Node) => ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'example');
  const found = new Map<string, boolean>();
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const declaration of symbol.declarations ?? []) {
      if (!declaration.getSourceFile().fileName.startsWith(sources)) continue;
      if (ts.isFunctionDeclaration(declaration)) found.set(symbol.name, hasExample(declaration));
      if (ts.isClassDeclaration(declaration)) {
        found.set(symbol.name, hasExample(declaration));
        for (const member of declaration.members)
          if (ts.isMethodDeclaration(member) && !(ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Private))
            found.set(`${symbol.name}.${member.name.getText()}`, hasExample(member));
      }
      if (!ts.isInterfaceDeclaration(declaration)) continue;
      found.set(symbol.name, hasExample(declaration));
      for (const member of declaration.members)
        if (ts.isMethodSignature(member)) found.set(`${symbol.name}.${member.name.getText()}`, hasExample(member));
    }
  }
  return found;
}

// issue 15 (convention 13): every public function of the verifier and its integrations has TSDoc with an example.
describe('the TSDoc of @tessera/verifier', () => {
  it('gives every exported function, class, interface and method an example', () => {
    const found = documented(entryOf('index.ts'));
    for (const name of ['createVerifier', 'VerifierError', 'Verifier.verify', 'Verifier.close', 'Principal'])
      expect(found.has(name), name).toBe(true);
    expect([...found].filter(([, example]) => !example).map(([name]) => name)).toEqual([]);
  });

  it.each(INTEGRATIONS)('gives every public name of @tessera/verifier/%s an example', (name) => {
    const found = documented(entryOf(`integrations/${name}.ts`));
    expect(found.size, name).toBeGreaterThan(0);
    expect([...found].filter(([, example]) => !example).map(([entry]) => entry)).toEqual([]);
  });
});
