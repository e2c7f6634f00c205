/**
 * Messages between the nodes of a cluster: revocations that must close sockets held elsewhere,
 * cache invalidations, presence changes. Delivery is at most once and only while the link is up;
 * a node whose link dropped has missed messages and must not trust what they would have told it,
 * so it hears of every drop and every recovery through `onLinkChange`.
 */
export interface ClusterBus {
  /** This process's id, unique across the cluster and across restarts. */
  readonly nodeId: string;
  /** Whether messages from other nodes reach this node now. */
  readonly connected: boolean;
  /** Sends to every node, this one included. Rejects when the message could not be handed to the broker. */
  publish(channel: string, message: string): Promise<void>;
  /** Hears every message on `channel` from now on; returns the unsubscribe. */
  subscribe(channel: string, handler: BusHandler): () => void;
  /** Hears the link go down (`false`) and come back (`true`, once the node is subscribed again). */
  onLinkChange(listener: (connected: boolean) => void): () => void;
  close(): Promise<void>;
}

export type BusHandler = (message: string) => void;

/** Handlers per channel, shared by the adapters. A throwing handler must not stop the others. */
export class ChannelHandlers {
  private readonly byChannel = new Map<string, Set<BusHandler>>();

  constructor(private readonly onHandlerError: (error: unknown, channel: string) => void) {}

  get channels(): string[] {
    return [...this.byChannel.keys()];
  }

  /** Returns true when this is the channel's first handler (the adapter must subscribe). */
  add(channel: string, handler: BusHandler): boolean {
    let handlers = this.byChannel.get(channel);
    const first = handlers === undefined;
    if (handlers === undefined) this.byChannel.set(channel, (handlers = new Set()));
    handlers.add(handler);
    return first;
  }

  /** Returns true when the channel has no handler left (the adapter may unsubscribe). */
  remove(channel: string, handler: BusHandler): boolean {
    const handlers = this.byChannel.get(channel);
    handlers?.delete(handler);
    if (handlers?.size !== 0) return false;
    this.byChannel.delete(channel);
    return true;
  }

  deliver(channel: string, message: string): void {
    for (const handler of this.byChannel.get(channel) ?? []) {
      try {
        handler(message);
      } catch (error) {
        this.onHandlerError(error, channel);
      }
    }
  }
}

/** Listeners of link changes, shared by the adapters. */
export class LinkListeners {
  private readonly listeners = new Set<(connected: boolean) => void>();

  add(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(connected: boolean): void {
    for (const listener of this.listeners) listener(connected);
  }
}
