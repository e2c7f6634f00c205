import type { Logger } from 'pino';
import { openChannel, type Channel, type ClusterBus } from '../cluster/index.js';
import { every, realTime, type Cancel, type Timeline } from '../lib/scheduler.js';
import type { Presence, SessionPart } from './presence.js';

/** The bus channel of presence between nodes. */
export const PRESENCE_CHANNEL = 'presence';

/** Sessions per message when a node sends its whole part. */
export const STATE_CHUNK = 1000;

/**
 * What nodes tell each other. `set` carries changes of the sender's part (idempotent: the new
 * count, not a difference); `state` the sender's whole part, in chunks, replacing what the
 * others held of it; `ask` asks every node (`of: null`) or one for its `state`; `beat` says
 * the sender is alive; `leaving` that it stops, so its sessions leave at once.
 */
type PresenceMessage =
  | { type: 'set'; parts: SessionPart[] }
  | { type: 'state'; parts: SessionPart[]; first: boolean; last: boolean }
  | { type: 'ask'; of: string | null }
  | { type: 'beat' }
  | { type: 'leaving' };

export interface PresenceSyncOptions {
  bus: ClusterBus;
  presence: Pick<Presence, 'set' | 'dropNode' | 'partsOf'>;
  heartbeatMs: number;
  /** A node not heard for this many heartbeats is dropped from the view. */
  missedBeats: number;
  logger: Logger;
  /** Beats and deadlines run on real elapsed time, not business time; tests pass a ManualClock and move it beat by beat. */
  time?: Timeline;
  /** Called at the first beat at which the view is complete again after it was not. */
  onViewComplete?: () => void;
}

/**
 * Keeps the other nodes' parts of presence up to date over the cluster bus, and tells them of
 * this node's. Only a node that shares a bus with others runs one. A node that starts, or whose link comes back, asks every node for its whole
 * part and sends its own; every node beats every `heartbeatMs`, and one not heard for
 * `missedBeats` beats is dropped (so while this node's link is down, the others' users stay
 * until then). A change that could not be sent is made good by sending the whole part again
 * at the next beat; a node heard of for the first time (it missed this node's ask) is asked.
 */
export class PresenceSync {
  private readonly heard = new Map<string, number>();
  /** Sessions of a node's `state` heard so far, while its chunks arrive. */
  private readonly replacing = new Map<string, Set<string>>();
  private pending = new Map<string, SessionPart>();
  private flushScheduled = false;
  private stateNeeded = false;
  /** When the view may be trusted to hold every node's part (answers to the last ask had time to arrive). */
  private completeAt = Number.POSITIVE_INFINITY;
  private wasComplete = false;
  /** When the last beat ran: a beat that runs late says this node itself stalled. */
  private lastTickAt: number;
  private stopped = false;
  private readonly stopBeats: Cancel;
  private readonly channel: Channel<PresenceMessage>;
  private readonly time: Timeline;

  constructor(private readonly options: PresenceSyncOptions) {
    this.time = options.time ?? realTime();
    this.lastTickAt = this.time.now();
    this.channel = openChannel<PresenceMessage>(options.bus, PRESENCE_CHANNEL, {
      logger: options.logger,
      onMessage: (message, node) => this.receive(message, node),
      onLinkChange: (up) => this.linkChanged(up),
    });
    this.stopBeats = every(this.time, options.heartbeatMs, () => this.tick());
    if (this.channel.connected) this.announce();
  }

  private get timeoutMs(): number {
    return this.options.heartbeatMs * this.options.missedBeats;
  }

  /** Whether the view holds every node's connections: the link is up and the nodes had time to answer since it came up. */
  get viewComplete(): boolean {
    return this.channel.connected && this.time.now() >= this.completeAt;
  }

  /** This node's part of a session changed (Presence's `localChange`); sent with the others of this turn of the event loop. */
  localChanged(part: SessionPart): void {
    if (this.stopped) return;
    this.pending.set(keyOf(part.appId, part.userId, part.sessionId), part);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Tells the other nodes this one stops (its sessions leave their view at once), and stops. */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stop();
    if (!this.channel.connected) return;
    await this.channel.publish({ type: 'leaving' });
  }

  stop(): void {
    this.stopped = true;
    this.stopBeats();
    this.channel.close();
    this.pending.clear();
  }

  private linkChanged(up: boolean): void {
    if (this.stopped) return;
    // Messages were lost both ways: the others' parts are renewed by their answers (or dropped
    // at their deadline), and they get this node's whole part.
    if (up) this.announce();
    else this.completeAt = Number.POSITIVE_INFINITY;
  }

  private announce(): void {
    this.completeAt = this.time.now() + this.timeoutMs;
    this.send({ type: 'ask', of: null });
    this.sendState();
  }

  private tick(): void {
    const now = this.time.now();
    this.allowForOwnStall(now);
    const complete = this.viewComplete;
    if (complete && !this.wasComplete) this.options.onViewComplete?.();
    this.wasComplete = complete;
    for (const [node, at] of this.heard) {
      if (now - at <= this.timeoutMs) continue;
      this.forget(node);
      this.options.logger.info(
        { node, silentMs: Math.round(now - at) },
        'presence: a node was not heard from; its users left',
      );
    }
    if (!this.channel.connected) return;
    if (this.stateNeeded) this.sendState();
    else this.send({ type: 'beat' });
  }

  /**
   * A beat that runs late means this node stalled (a long GC, a blocked event loop): the other
   * nodes' beats of that time wait unread in its socket, and the timers run before they are read.
   * Their silence is counted without the stall, so that a node waking up does not drop every
   * other node (and their users) at once; a node that really stopped is dropped a stall later.
   */
  private allowForOwnStall(now: number): void {
    const stalledMs = now - this.lastTickAt - this.options.heartbeatMs;
    this.lastTickAt = now;
    if (stalledMs <= 0) return;
    for (const [node, at] of this.heard) this.heard.set(node, Math.min(now, at + stalledMs));
    // Answers to an ask made before the stall were held back too.
    if (this.completeAt > now - stalledMs) this.completeAt += stalledMs;
  }

  private flush(): void {
    this.flushScheduled = false;
    const parts = [...this.pending.values()];
    this.pending = new Map();
    // While the link is down the changes would be lost anyway; the whole part goes out when it is back.
    if (this.stopped || parts.length === 0 || !this.channel.connected) return;
    for (let start = 0; start < parts.length; start += STATE_CHUNK)
      this.send({ type: 'set', parts: parts.slice(start, start + STATE_CHUNK) });
  }

  private sendState(): void {
    this.stateNeeded = false;
    const parts = [...this.options.presence.partsOf(this.channel.nodeId)];
    // Sent in one go: the broker keeps one publisher's messages in order, so no change of this node comes between the chunks.
    for (let start = 0; start === 0 || start < parts.length; start += STATE_CHUNK) {
      this.send({
        type: 'state',
        parts: parts.slice(start, start + STATE_CHUNK),
        first: start === 0,
        last: start + STATE_CHUNK >= parts.length,
      });
    }
  }

  private send(message: PresenceMessage): void {
    if (this.stopped) return;
    void this.channel.publish(message).then((sent) => {
      // The others missed something of this node: its whole part goes out at the next beat.
      if (!sent && (message.type === 'set' || message.type === 'state')) this.stateNeeded = true;
    });
  }

  private receive(message: PresenceMessage, node: string): void {
    if (this.stopped) return;
    switch (message.type) {
      case 'leaving':
        return this.forget(node);
      case 'ask':
        // Its state follows its ask.
        this.noteHeard(node, false);
        if (message.of === null || message.of === this.channel.nodeId) this.sendState();
        return;
      case 'state':
        return this.receiveState(node, message.parts, message.first, message.last);
      case 'set':
        this.noteHeard(node, true);
        for (const part of message.parts) this.apply(node, part);
        return;
      case 'beat':
        return this.noteHeard(node, true);
    }
  }

  private receiveState(node: string, parts: SessionPart[], first: boolean, last: boolean): void {
    this.noteHeard(node, false);
    if (first) this.replacing.set(node, new Set());
    for (const part of parts) this.apply(node, part);
    if (!last) return;
    const seen = this.replacing.get(node);
    this.replacing.delete(node);
    // What the node held before and no longer does (changes lost while a link was down) leaves.
    if (seen !== undefined)
      this.options.presence.dropNode(node, (appId, userId, sessionId) => seen.has(keyOf(appId, userId, sessionId)));
  }

  private apply(node: string, part: SessionPart): void {
    this.replacing.get(node)?.add(keyOf(part.appId, part.userId, part.sessionId));
    this.options.presence.set(node, part);
  }

  /** A node heard of for the first time missed this node's ask, or was dropped meanwhile: it is asked for its part. */
  private noteHeard(node: string, askIfNew: boolean): void {
    if (askIfNew && !this.heard.has(node)) this.send({ type: 'ask', of: node });
    this.heard.set(node, this.time.now());
  }

  private forget(node: string): void {
    this.heard.delete(node);
    this.replacing.delete(node);
    this.options.presence.dropNode(node);
  }
}

function keyOf(appId: string, userId: string, sessionId: string): string {
  return `${appId}\n${userId}\n${sessionId}`;
}
