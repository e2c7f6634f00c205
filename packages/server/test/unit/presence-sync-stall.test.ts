import { describe, expect, it } from 'vitest';
import { ChannelHandlers, LinkListeners, type BusHandler, type ClusterBus } from '../../src/cluster/bus.js';
import { ManualClock } from '../../src/lib/clock.js';
import type { Cancel, Timeline } from '../../src/lib/scheduler.js';
import { createLogger } from '../../src/logger.js';
import { Presence, type PresenceMember } from '../../src/realtime/presence.js';
import { PresenceSync } from '../../src/realtime/presence-sync.js';

// Issue 12: a node whose own event loop stalls (a long GC, a blocked loop) runs its overdue beat
// before it reads the other nodes' beats waiting in its socket. It must not take them for
// silent and drop their users. A stall cannot be made on purpose through Redis, so the nodes
// here share an in-process hub whose delivery to the stalled node is held, as its socket would be.

const HEARTBEAT_MS = 100;
const MISSED_BEATS = 3;
const APP = 'app-1';

class Hub {
  readonly buses: HubBus[] = [];
}

/** A bus on the hub; while `held`, what reaches it waits, as unread bytes in a stalled node's socket. */
class HubBus implements ClusterBus {
  readonly connected = true;
  held = false;
  private readonly inbox: [string, string][] = [];
  private readonly handlers = new ChannelHandlers((error) => {
    throw error;
  });
  private readonly links = new LinkListeners();

  constructor(
    readonly nodeId: string,
    private readonly hub: Hub,
  ) {
    hub.buses.push(this);
  }

  publish(channel: string, message: string): Promise<void> {
    for (const bus of this.hub.buses) bus.receive(channel, message);
    return Promise.resolve();
  }

  receive(channel: string, message: string): void {
    if (this.held) this.inbox.push([channel, message]);
    else this.handlers.deliver(channel, message);
  }

  /** Reads what waited. */
  drain(): void {
    this.held = false;
    for (const [channel, message] of this.inbox.splice(0)) this.handlers.deliver(channel, message);
  }

  subscribe(channel: string, handler: BusHandler): () => void {
    this.handlers.add(channel, handler);
    return () => void this.handlers.remove(channel, handler);
  }

  onLinkChange(listener: (connected: boolean) => void): () => void {
    return this.links.add(listener);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A node's view of real time whose timers can be held and then run late, all at once. */
class StallingTimeline implements Timeline {
  private stalled: (() => void)[] | undefined;

  constructor(private readonly clock: ManualClock) {}

  now(): number {
    return this.clock.now();
  }

  at(time: number, task: () => void): Cancel {
    return this.clock.at(time, () => (this.stalled === undefined ? task() : this.stalled.push(task)));
  }

  stall(): void {
    this.stalled = [];
  }

  /** Wakes up as Node does: overdue timers first, then what waited in the socket. */
  wake(bus: HubBus): void {
    const due = this.stalled ?? [];
    this.stalled = undefined;
    for (const task of due) task();
    bus.drain();
  }
}

const member = (userId: string, sessionId: string): PresenceMember => ({
  appId: APP,
  userId,
  sessionId,
  kind: 'registered',
  displayName: null,
});

function startNode(id: string, hub: Hub, time: Timeline): { bus: HubBus; presence: Presence; sync: PresenceSync } {
  const bus = new HubBus(id, hub);
  const presence: Presence = new Presence(id, {
    userOffline: () => undefined,
    localChange: (part) => sync.localChanged(part),
  });
  const sync = new PresenceSync({
    bus,
    presence,
    heartbeatMs: HEARTBEAT_MS,
    missedBeats: MISSED_BEATS,
    time,
    logger: createLogger('silent'),
  });
  return { bus, presence, sync };
}

const online = (presence: Presence) => presence.snapshot(APP, undefined, 100).users.map((user) => user.userId);
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('presence across a stall of this node (issue 12)', () => {
  it('keeps the other nodes whose beats waited unread, and still drops one that stopped', async () => {
    const clock = new ManualClock(0);
    const hub = new Hub();
    const aTime = new StallingTimeline(clock);
    const a = startNode('node-a', hub, aTime);
    const b = startNode('node-b', hub, clock);
    const c = startNode('node-c', hub, clock);
    b.presence.join(member('ub', 'sb'));
    c.presence.join(member('uc', 'sc'));
    await settle();
    clock.advance(HEARTBEAT_MS);
    await settle();
    expect(online(a.presence).sort()).toEqual(['ub', 'uc']);

    // node-a stalls for ten deadlines; node-b keeps beating into its socket, node-c dies meanwhile.
    aTime.stall();
    a.bus.held = true;
    c.sync.stop();
    for (let beat = 0; beat < 10 * MISSED_BEATS; beat += 1) clock.advance(HEARTBEAT_MS);
    aTime.wake(a.bus);
    expect(online(a.presence).sort()).toEqual(['ub', 'uc']);

    // Awake, node-a counts node-c's silence from then on: dropped at its deadline, node-b kept.
    for (let beat = 0; beat < MISSED_BEATS + 1; beat += 1) clock.advance(HEARTBEAT_MS);
    expect(online(a.presence)).toEqual(['ub']);
    for (const node of [a, b]) node.sync.stop();
  });
});
