import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/** Every public function, method and accessor the package exports, by name, with whether its TSDoc has an example. */
function publicFunctions(): Map<string, boolean> {
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const found = new Map<string, boolean>();
  const hasExample = (node: ts.Node) => ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'example');
  const isPublic = (node: ts.Node) =>
    !(ts.getCombinedModifierFlags(node as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected));
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const declaration of symbol.declarations ?? []) {
      if (!declaration.getSourceFile().fileName.startsWith(fileURLToPath(new URL('../src/', import.meta.url))))
        continue;
      if (ts.isFunctionDeclaration(declaration) || ts.isVariableDeclaration(declaration))
        found.set(symbol.name, hasExample(declaration));
      if (!ts.isClassDeclaration(declaration)) continue;
      for (const member of declaration.members) {
        if (!isPublic(member) || member.name === undefined || ts.isPrivateIdentifier(member.name)) continue;
        const name = `${symbol.name}.${member.name.getText()}`;
        if (ts.isMethodDeclaration(member) || ts.isGetAccessorDeclaration(member)) found.set(name, hasExample(member));
        // Grouped calls, such as `sessions.list()`, are typed as an object of methods.
        if (ts.isPropertyDeclaration(member) && member.type !== undefined && ts.isTypeLiteralNode(member.type)) {
          for (const inner of member.type.members)
            if (ts.isMethodSignature(inner)) found.set(`${name}.${inner.name.getText()}`, hasExample(inner));
        }
      }
    }
  }
  return found;
}

describe('the TSDoc of @tessera/client', () => {
  it('gives every public function, method and accessor an example', () => {
    const functions = publicFunctions();
    expect(functions.size).toBeGreaterThanOrEqual(41);
    expect([...functions].filter(([, example]) => !example).map(([name]) => name)).toEqual([]);
    // The calls the issue names are all there.
    for (const name of [
      'connect',
      'connectAnonymously',
      'connectAsGuest',
      'connectWithJwt',
      'connectWithAuthToken',
      'reconnect',
      'authenticate',
      'reAuthenticate',
      'logout',
      'getLoggedInUser',
      'signup',
      'updateProfile',
      'changePassword',
      'sessions.list',
      'sessions.revoke',
      'upgradeAnonymous',
      'onSessionExpired',
    ]) {
      expect(functions.has(`TesseraClient.${name}`), name).toBe(true);
    }
  });
});
