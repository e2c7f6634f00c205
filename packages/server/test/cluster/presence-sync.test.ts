import { randomBytes } from 'node:crypto';
import type { PresenceJoinFrame, PresenceLeaveFrame } from '@tessera/protocol';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisBus } from '../../src/cluster/redis-bus.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/logger.js';
import { Presence, type PresenceMember } from '../../src/realtime/presence.js';
import { PRESENCE_CHANNEL, PresenceSync, STATE_CHUNK } from '../../src/realtime/presence-sync.js';
import { redisUrl } from '../helpers/backends.js';
import { withTimeout } from '../helpers/realtime.js';

// Issue 6: the presence of nodes in one process, each with its own Redis connections, as
// separate processes would have them (test/cluster/presence.test.ts runs real processes).
// Issue 12: their beats and deadlines run on one ManualClock the test moves, so that a busy
// machine never lets a deadline pass by itself; messages still travel through Redis.

const APP = 'app-1';
const HEARTBEAT_MS = 100;
const MISSED_BEATS = 3;
const NODE_TIMEOUT_MS = HEARTBEAT_MS * MISSED_BEATS;
/** Generous: the messages travel through a real Redis on a machine that may be busy. */
const WAIT_MS = 15_000;

interface TestNode {
  id: string;
  presence: Presence;
  sync: PresenceSync;
  /** Times the view turned complete. */
  completions: number;
  frames: (PresenceJoinFrame | PresenceLeaveFrame)[];
  close(): Promise<void>;
}

const member = (userId: string, sessionId: string): PresenceMember => ({
  appId: APP,
  userId,
  sessionId,
  kind: 'registered',
  displayName: null,
});

/** Resolves once `check` holds, polled every 20 ms for at most WAIT_MS. */
async function until(check: () => boolean, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      for (let attempt = 0; attempt < WAIT_MS / 20 && !check(); attempt += 1)
        await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    WAIT_MS + 1000,
    what,
  );
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe.each(redisUrl === undefined ? [] : [redisUrl])('presence sync over Redis pub/sub', (url) => {
  const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`;
  const open: TestNode[] = [];
  /** The nodes' real time: no beat and no deadline passes unless the test moves it. */
  let time: ManualClock;
  beforeEach(() => {
    time = new ManualClock(0);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((node) => node.close()));
  });

  async function startNode(id: string): Promise<TestNode> {
    const publisher = new Redis(url, { maxRetriesPerRequest: 1 });
    const subscriber = publisher.duplicate({ autoResubscribe: false, maxRetriesPerRequest: null });
    const bus = new RedisBus(id, publisher, subscriber, prefix, (error) => {
      throw error;
    });
    const frames: TestNode['frames'] = [];
    const presence: Presence = new Presence(id, {
      userOffline: () => undefined,
      localChange: (part) => sync.localChanged(part),
    });
    presence.subscribe(
      APP,
      { deliver: (json) => frames.push(JSON.parse(json) as PresenceJoinFrame | PresenceLeaveFrame) },
      undefined,
    );
    const sync = new PresenceSync({
      bus,
      presence,
      heartbeatMs: HEARTBEAT_MS,
      missedBeats: MISSED_BEATS,
      time,
      logger: createLogger('silent'),
      onViewComplete: () => (node.completions += 1),
    });
    await until(() => bus.connected, 'the bus to connect');
    const node: TestNode = {
      id,
      presence,
      sync,
      completions: 0,
      frames,
      async close() {
        sync.stop();
        await bus.close();
        publisher.disconnect();
      },
    };
    open.push(node);
    return node;
  }

  const online = (node: TestNode) => node.presence.snapshot(APP, undefined, 10_000).users.length;

  it('tells once that its view is complete, a heartbeat deadline after it started (anonymous users let go meanwhile end then)', async () => {
    const node = await startNode('node-complete');
    expect(node.sync.viewComplete).toBe(false);
    time.advance(NODE_TIMEOUT_MS - 1);
    expect([node.sync.viewComplete, node.completions]).toEqual([false, 0]);
    // The beat at the deadline finds the view complete, and says so once, not at every later beat.
    time.advance(HEARTBEAT_MS);
    expect([node.sync.viewComplete, node.completions]).toEqual([true, 1]);
    time.advance(5 * HEARTBEAT_MS);
    expect(node.completions).toBe(1);
  });

  it('sends a starting node the whole part of each node, at most STATE_CHUNK sessions a message', async () => {
    const a = await startNode('node-a');
    const sessions = 2 * STATE_CHUNK + 500;
    for (let index = 0; index < sessions; index += 1) a.presence.join(member(`u${index}`, `s${index}`));
    const listener = new Redis(url);
    const sizes: number[] = [];
    listener.on('message', (_channel: string, message: string) => {
      const parsed = JSON.parse(message) as { node: string; type: string; parts?: unknown[] };
      if (parsed.node === 'node-a' && parsed.type === 'state') sizes.push(parsed.parts!.length);
    });
    await listener.subscribe(`${prefix}bus:${PRESENCE_CHANNEL}`);
    try {
      const b = await startNode('node-b');
      // The listener's connection may hear the chunks after node-b's does.
      await until(() => online(b) === sessions && sizes.length >= 3, 'node-b to see every session of node-a');
      // node-b may also ask node-a alone, if a beat of node-a reaches it before the answer: the same chunks again.
      expect(sizes.slice(0, 3)).toEqual([STATE_CHUNK, STATE_CHUNK, 500]);
      expect(sizes.every((size) => size <= STATE_CHUNK)).toBe(true);
      expect(b.frames.filter((frame) => frame.type === 'presence.join')).toHaveLength(sessions);
    } finally {
      listener.disconnect();
    }
  });

  it('carries joins and leaves both ways, and drops a node that says it leaves at once', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    a.presence.join(member('ua', 'sa'));
    b.presence.join(member('ub', 'sb'));
    b.presence.join(member('ua', 'sa'));
    await until(() => online(a) === 2 && online(b) === 2, 'both nodes to see both users');
    expect(a.presence.snapshot(APP, ['ua'], 1).users[0]).toMatchObject({ connections: 2 });
    a.presence.leave(member('ua', 'sa'));
    await until(() => b.presence.snapshot(APP, ['ua'], 1).users[0]?.connections === 1, 'the leave on a to reach b');
    expect(b.frames.some((frame) => frame.type === 'presence.leave')).toBe(false);

    await b.sync.leave();
    await until(() => online(a) === 0, 'node-b to leave');
    expect(
      a.frames
        .filter((frame) => frame.type === 'presence.leave')
        .map((frame) => frame.sessionId)
        .sort(),
    ).toEqual(['sa', 'sb']);
  });

  it('drops a silent node after its missed beats, and asks a node it hears of again for its whole part', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    b.presence.join(member('ub', 'sb'));
    await until(() => online(a) === 1, 'node-a to see ub');
    // b goes silent without a word, as a killed process does: a keeps its users until b's deadline.
    b.sync.stop();
    time.advance(NODE_TIMEOUT_MS);
    expect(online(a)).toBe(1);
    time.advance(HEARTBEAT_MS);
    expect(online(a)).toBe(0);
    expect(a.frames.filter((frame) => frame.type === 'presence.leave').map((frame) => frame.sessionId)).toEqual(['sb']);

    // A stale part (as after a change lost on the way) is replaced by the node's whole part when it is heard again.
    a.presence.set('node-c', { ...member('stale', 'gone'), connections: 1 });
    const c = await startNode('node-c');
    c.presence.join(member('uc', 'sc'));
    await until(
      () =>
        a.presence.snapshot(APP, ['uc'], 1).users.length === 1 &&
        a.presence.snapshot(APP, ['stale'], 1).users.length === 0,
      'node-c to replace its part on node-a',
    );
    expect(a.sync.viewComplete).toBe(true);
  });
});
