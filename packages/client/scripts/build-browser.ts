/**
 * Builds the browser bundle of @tessera/client into packages/client/dist/browser: one ESM file
 * with @tessera/protocol inlined, readable (`tessera-client.js`) and minified
 * (`tessera-client.min.js`), each with a source map. Built from the TypeScript sources, so it
 * needs no `tsc` build first.
 *
 *   node --import tsx packages/client/scripts/build-browser.ts [--json]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';

export const CLIENT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BROWSER_DIR = fileURLToPath(new URL('../dist/browser/', import.meta.url));

export interface BrowserBundle {
  /** The readable bundle. */
  file: string;
  /** The minified bundle. */
  minFile: string;
  minBytes: number;
  /** The minified bundle's size gzipped at level 9. */
  gzipBytes: number;
}

export async function buildBrowserBundle(outdir: string = BROWSER_DIR): Promise<BrowserBundle> {
  const common: BuildOptions = {
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Object.hasOwn (in protocol) sets the floor: Chrome 93, Firefox 92, Safari 15.4.
    target: ['es2022', 'chrome93', 'firefox92', 'safari15.4'],
    // Bundle protocol from its sources, as the tests run them.
    conditions: ['tessera-source'],
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
  const file = `${outdir.replace(/\/$/, '')}/tessera-client.js`;
  const minFile = `${outdir.replace(/\/$/, '')}/tessera-client.min.js`;
  await build({ ...common, outfile: file });
  await build({ ...common, outfile: minFile, minify: true });
  const minified = readFileSync(minFile);
  return { file, minFile, minBytes: minified.length, gzipBytes: gzipSync(minified, { level: 9 }).length };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const bundle = await buildBrowserBundle();
  // `--json`: for the benchmark, which runs this script in a process of its own.
  if (process.argv.includes('--json')) console.log(JSON.stringify(bundle));
  else
    console.log(
      `${bundle.minFile}: ${bundle.minBytes} bytes minified, ${bundle.gzipBytes} bytes gzipped (${(bundle.gzipBytes / 1024).toFixed(2)} KiB)`,
    );
}
