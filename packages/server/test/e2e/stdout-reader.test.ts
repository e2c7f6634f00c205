import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/node-process.js';

/** Each request to an unknown path logs one line holding the path: this many bytes is far more than a pipe holds (64 KiB on Linux). */
const LOG_BYTES_TO_WRITE = 2 * 1024 * 1024;
const LONG_PATH = `/nowhere/${'x'.repeat(4000)}`;

/** Requests, one at a time, whose log lines add up to LOG_BYTES_TO_WRITE; every one must be answered. */
async function logMuch(node: NodeProcess): Promise<void> {
  for (let written = 0; written < LOG_BYTES_TO_WRITE; written += LONG_PATH.length) {
    const response = await fetch(`${node.url}${LONG_PATH}`);
    expect(response.status).toBe(404);
    await response.arrayBuffer();
  }
}

// issue 12: `npm start | head -1`, or a pipe nobody reads, left a server that hung and ignored SIGTERM.
describe('a node whose standard output nobody reads', { timeout: 120_000 }, () => {
  let dataDir: string;
  let node: NodeProcess | undefined;

  afterEach(async () => {
    await node?.stop();
    node = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (stdoutReader: 'stops reading' | 'closes') => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-stdout-'));
    node = await startNode({ databaseUrl: `sqlite://${join(dataDir, 'tessera.db')}`, dataDir, stdoutReader });
    return node;
  };

  for (const reader of ['stops reading', 'closes'] as const) {
    it(`keeps serving and exits 0 on SIGTERM when the reader ${reader}`, async () => {
      const started = await start(reader);
      await logMuch(started);
      // Still answering: logging did not block the event loop.
      expect((await fetch(`${started.url}/healthz`)).status).toBe(200);
      started.child.kill('SIGTERM');
      // No deadline raced here: before the fix the process never exited and the test timed out.
      expect(await started.exited).toEqual({ code: 0, signal: null });
      expect(started.output()).not.toMatch(/EPIPE|Unhandled|uncaught/i);
    });
  }
});
