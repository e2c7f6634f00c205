import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['tessera-source'] },
  ssr: { resolve: { conditions: ['tessera-source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    globalSetup: ['packages/server/test/global-setup.ts'],
    pool: 'forks',
    // Safety nets against a hang, not deadlines a test races: on a busy machine (two cores, other
    // suites and real `tessera` processes at once) a test that passes in 2 s may take 20 (issue 12).
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
