import { afterEach, describe, expect, it } from 'vitest';
import { openChannel } from '../../src/cluster/channel.js';
import { MemoryBus } from '../../src/cluster/memory-bus.js';
import { createLogger } from '../../src/logger.js';
import { redisUrl } from '../helpers/backends.js';
import { LogCapture } from '../helpers/log-capture.js';
import { EVENT_TIMEOUT_MS, withTimeout } from '../helpers/realtime.js';
import { linkIs, redisNodes, subscribed, type RedisNode } from '../helpers/redis-nodes.js';

type Greeting = { type: 'hello'; n: number } | { type: 'bye' };

const silent = createLogger('silent');
const failOnHandlerError = (error: unknown) => {
  throw error;
};

/** Lets the MemoryBus deliver (it does so on a microtask). */
const delivered = () => new Promise((resolve) => setImmediate(resolve));

function listener() {
  const heard: { message: Greeting; from: string }[] = [];
  return { heard, onMessage: (message: Greeting, from: string) => void heard.push({ message, from }) };
}

describe('openChannel over MemoryBus', () => {
  it('sends {"node":<sender>,…message} and drops this node’s own messages unparsed', async () => {
    const bus = new MemoryBus('node-a', failOnHandlerError);
    const raw: string[] = [];
    bus.subscribe('greetings', (message) => void raw.push(message));
    const { heard, onMessage } = listener();
    const channel = openChannel<Greeting>(bus, 'greetings', { onMessage, logger: silent });
    expect(await channel.publish({ type: 'hello', n: 1 })).toBe(true);
    await delivered();
    expect(raw).toEqual(['{"node":"node-a","type":"hello","n":1}']);
    expect(heard).toEqual([]);
    expect(channel).toMatchObject({ nodeId: 'node-a', connected: true });
  });

  it("hands other nodes' messages over typed, without the sender field, whatever its place", async () => {
    const bus = new MemoryBus('node-a', failOnHandlerError);
    const { heard, onMessage } = listener();
    const channel = openChannel<Greeting>(bus, 'greetings', { onMessage, logger: silent });
    await bus.publish('greetings', '{"node":"node-b","type":"hello","n":2}');
    // As an older version wrote it: the sender after the type. Its own such message is dropped too.
    await bus.publish('greetings', '{"type":"bye","node":"node-c"}');
    await bus.publish('greetings', '{"type":"bye","node":"node-a"}');
    await delivered();
    expect(heard).toEqual([
      { message: { type: 'hello', n: 2 }, from: 'node-b' },
      { message: { type: 'bye' }, from: 'node-c' },
    ]);
    channel.close();
    await bus.publish('greetings', '{"node":"node-b","type":"bye"}');
    await delivered();
    expect(heard).toHaveLength(2);
  });
});

describe.skipIf(redisUrl === undefined)('openChannel over Redis', () => {
  const opened: RedisNode[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((node) => node.close()));
  });

  async function nodes(): Promise<[RedisNode, RedisNode]> {
    const [a, b] = await redisNodes(redisUrl!, 'node-a', 'node-b');
    opened.push(a!, b!);
    return [a!, b!];
  }

  it('carries a message to the other node, and not back to its sender', async () => {
    const [a, b] = await nodes();
    const atA = listener();
    const atB = listener();
    const sender = openChannel<Greeting>(a.bus, 'greetings', { onMessage: atA.onMessage, logger: silent });
    const arrived = new Promise<void>((resolve) => {
      openChannel<Greeting>(b.bus, 'greetings', {
        onMessage: (message, from) => {
          atB.onMessage(message, from);
          resolve();
        },
        logger: silent,
      });
    });
    await subscribed([a, b]);
    expect(await sender.publish({ type: 'hello', n: 3 })).toBe(true);
    await withTimeout(arrived, EVENT_TIMEOUT_MS, 'the message at node-b');
    // A message of b's after a's own: once it is heard, a's own would have been too.
    const echo = new Promise<void>((resolve) => {
      openChannel<Greeting>(a.bus, 'greetings', { onMessage: () => resolve(), logger: silent });
    });
    await subscribed([a]);
    await b.bus.publish('greetings', '{"node":"node-b","type":"bye"}');
    await withTimeout(echo, EVENT_TIMEOUT_MS, 'the message of node-b at node-a');
    expect(atB.heard).toEqual([{ message: { type: 'hello', n: 3 }, from: 'node-a' }]);
    expect(atA.heard).toEqual([{ message: { type: 'bye' }, from: 'node-b' }]);
  });

  it('forwards link changes, and stops when closed', async () => {
    const [, b] = await nodes();
    const changes: boolean[] = [];
    const channel = openChannel<Greeting>(b.bus, 'greetings', {
      onMessage: () => undefined,
      onLinkChange: (up) => void changes.push(up),
      logger: silent,
    });
    b.subscriber.disconnect();
    await linkIs(b.bus, false);
    expect(channel.connected).toBe(false);
    await b.subscriber.connect();
    await linkIs(b.bus, true);
    expect(changes).toEqual([false, true]);
    channel.close();
    b.subscriber.disconnect();
    await linkIs(b.bus, false);
    expect(changes).toEqual([false, true]);
  });

  it('logs failed publishes once per outage, and once when publishing works again', async () => {
    const [a] = await nodes();
    const logs = new LogCapture();
    const channel = openChannel<Greeting>(a.bus, 'greetings', {
      onMessage: () => undefined,
      logger: createLogger('debug', logs),
    });
    a.commands.disconnect();
    for (let n = 0; n < 3; n += 1) expect(await channel.publish({ type: 'hello', n })).toBe(false);
    expect(logs.withMessage('could not tell the other nodes')).toEqual([
      expect.objectContaining({ level: 40, channel: 'greetings' }),
    ]);
    await a.commands.connect();
    expect(await channel.publish({ type: 'bye' })).toBe(true);
    expect(await channel.publish({ type: 'bye' })).toBe(true);
    expect(logs.withMessage('telling the other nodes works again')).toEqual([
      expect.objectContaining({ level: 30, channel: 'greetings' }),
    ]);
    a.commands.disconnect();
    expect(await channel.publish({ type: 'bye' })).toBe(false);
    expect(logs.withMessage('could not tell the other nodes')).toHaveLength(2);
  });
});
