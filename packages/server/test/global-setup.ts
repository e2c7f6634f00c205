import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Tests that start real `tessera` processes run the built CLI. `npm test` has built it already
 * (typecheck); this keeps a direct `npx vitest` run from using a stale build. tsc -b does
 * nothing when the build is up to date.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url)), '-b', 'packages/server'],
    { cwd: root, stdio: 'inherit' },
  );
}
