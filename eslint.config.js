// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodePrefix = {
  regex: '^(fs|path|crypto|os|http|util|events|stream|child_process|url|net|worker_threads|timers)(/.*)?$',
  message: 'Use the node: prefix.',
};

/**
 * The import rule for a set of files: the node: prefix and the given zone patterns. A file gets the
 * option list of the last block that matches it, so every block repeats the prefix. typescript-eslint's
 * variant of no-restricted-imports, because it can allow type-only imports; the core rule is off.
 */
const restrictImports = (...zonePatterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns: [nodePrefix, ...zonePatterns] }],
});

/** Matches a relative import of `src/<folder>/…`, from any depth. */
const folder = (path) => `(^|/)${path}/`;
const noHttp = { regex: folder('http'), message: 'The HTTP layer depends on this code, not the reverse.' };
const noRealtime = { regex: folder('realtime'), message: 'The realtime layer depends on this code, not the reverse.' };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: [
          'packages/protocol/tsconfig.json',
          'packages/server/tsconfig.test.json',
          'packages/client/tsconfig.json',
          'packages/client/tsconfig.test.json',
          'packages/verifier/tsconfig.json',
          'packages/verifier/tsconfig.test.json',
          'examples/chat/tsconfig.json',
          'tsconfig.tools.json',
        ],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify plugins and interface implementations are async by contract, with or without an await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
      ...restrictImports(),
    },
  },
  // Dependency zones (issue 13): each layer imports only the layers below it.
  {
    files: ['packages/server/src/http/routes/**'],
    rules: restrictImports(
      {
        regex: folder('store/repositories'),
        allowTypeImports: true,
        message: 'Routes reach the store through services; only the record types may be imported.',
      },
      { regex: `${folder('store')}(?!repositories/)`, message: 'Routes reach the store through services.' },
    ),
  },
  {
    files: ['packages/server/src/{auth,users,apps}/**'],
    rules: restrictImports(noHttp, noRealtime),
  },
  {
    // Also in auth/: repeats that zone's patterns.
    files: ['packages/server/src/auth/strategies/**'],
    rules: restrictImports(noHttp, noRealtime, {
      regex: folder('store/repositories'),
      allowTypeImports: true,
      message: 'A strategy reads the store through the services it is given; only types may be imported.',
    }),
  },
  {
    files: ['packages/server/src/realtime/**'],
    rules: restrictImports(noHttp),
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`.
    files: ['packages/*/test/**/*.ts', 'examples/*/test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
