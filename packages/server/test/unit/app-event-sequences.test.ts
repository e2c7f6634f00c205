import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppEventLog } from '../../src/events/append.js';
import { EventWakeUps } from '../../src/events/wake-ups.js';
import { createLogger } from '../../src/logger.js';
import { backends } from '../helpers/backends.js';
import { openSessionParts, type SessionParts } from '../helpers/session-parts.js';

// Issue 15, item 2: appends of one app from many transactions at once get 1..N with no gap and no
// duplicate, and become visible in sequence order: a reader polling meanwhile never skips one.

const APPENDS = 60;

describe.each(backends)('app event sequences under concurrent appends on $name (issue 15)', (backend) => {
  let parts: SessionParts;
  let log: AppEventLog;

  beforeAll(async () => {
    parts = await openSessionParts(backend);
    log = new AppEventLog(new EventWakeUps(parts.bus, createLogger('silent')), parts.clock);
  });
  afterAll(() => parts.close());

  it('numbers them 1..N in commit order while a reader polls', async () => {
    const { repositories, app } = parts;
    const start = (await repositories.appEvents.bounds(app.id)).latest;
    const seen: number[] = [];
    let done = false;
    const reader = (async () => {
      let last = start;
      for (;;) {
        const finished = done;
        const page = await repositories.appEvents.listAfter(app.id, last, 1000);
        for (const event of page) {
          // Never a hole: the next one visible is always the one after the last read.
          expect(event.sequence).toBe(last + 1);
          last = event.sequence;
          seen.push(event.sequence);
        }
        if (finished) return;
      }
    })();
    await Promise.all(
      Array.from({ length: APPENDS }, (_, i) =>
        repositories.transaction(async (inTransaction) => {
          await log.append(inTransaction, app.id, { type: 'user.enabled', userId: `user-${i}` });
          // Stay in the transaction a little, a different while for each (jitter of the workload,
          // not a wait the test depends on), so that later appends queue behind this one's lock.
          await new Promise((resolve) => setTimeout(resolve, i % 7));
          await inTransaction.apps.findAppById(app.id);
        }),
      ),
    );
    done = true;
    await reader;
    const expected = Array.from({ length: APPENDS }, (_, i) => start + i + 1);
    expect(seen).toEqual(expected);
    const stored = await repositories.appEvents.listAfter(app.id, start, 1000);
    expect(new Set(stored.map((event) => event.userId)).size).toBe(APPENDS);
  });
});
