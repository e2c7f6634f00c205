import { expect } from 'vitest';
import type { NodeProcess } from './node-process.js';
import type { Api, ApiResponse } from './server.js';

/** How long a node may take to be ready again once its database answers (a busy machine's margin). */
export const RECOVERY_TIMEOUT_MS = 15_000;

/** A call refused because a backing service is down: 503 `unavailable`, with Retry-After, and no token issued. */
export function expectUnavailable(response: ApiResponse<unknown>): void {
  expect(response.status).toBe(503);
  expect(response.body).toMatchObject({ error: { code: 'unavailable' } });
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(response.body).not.toHaveProperty('accessToken');
}

/** Polls `/readyz` until the node answers 200; fails with the node's recent output after `RECOVERY_TIMEOUT_MS`. */
export async function waitUntilReady(api: Api, node: NodeProcess): Promise<void> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  for (;;) {
    if ((await api('GET', '/readyz')).status === 200) return;
    if (Date.now() > deadline)
      throw new Error(
        `the node was not ready ${RECOVERY_TIMEOUT_MS} ms after its database came back:\n${node.output().slice(-4000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
