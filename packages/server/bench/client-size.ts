/**
 * (g) The client SDK's browser bundle (`packages/client/dist/browser/tessera-client.min.js`),
 * minified and gzipped at level 9, against the 12 KiB budget of issue 5. The bundle is built by
 * the client's own script, in a process of its own: `npm run bench -- client-size`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The size budget of the minified, gzipped browser bundle. */
export const CLIENT_BUNDLE_BUDGET_KIB = 12;

export type RecordFigure = (name: string, value: number, baseline: number, target: string, unit: string) => void;

export async function runClientSizeBench({ record }: { record: RecordFigure }): Promise<void> {
  const script = fileURLToPath(new URL('../../client/scripts/build-browser.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, '--json'], {
    encoding: 'utf8',
  });
  const bundle = JSON.parse(stdout) as { minFile: string; minBytes: number; gzipBytes: number };
  console.log(`  ${bundle.minFile}: ${bundle.minBytes} bytes minified, ${bundle.gzipBytes} bytes minified + gzip`);
  record(
    '(g) client browser bundle, minified + gzip (KiB) ÷ its budget',
    bundle.gzipBytes / 1024,
    CLIENT_BUNDLE_BUDGET_KIB,
    `≤ 1 (${CLIENT_BUNDLE_BUDGET_KIB} KiB)`,
    'KiB',
  );
}
