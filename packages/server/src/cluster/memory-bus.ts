import { ChannelHandlers, LinkListeners, type BusHandler, type ClusterBus } from './bus.js';

/**
 * The single-node bus: a message reaches this process's handlers on the next microtask, as
 * a broker's would arrive later than the publish. Its link never drops.
 */
export class MemoryBus implements ClusterBus {
  readonly connected = true;
  private readonly handlers: ChannelHandlers;
  private readonly links = new LinkListeners();

  constructor(
    readonly nodeId: string,
    onHandlerError: (error: unknown, channel: string) => void,
  ) {
    this.handlers = new ChannelHandlers(onHandlerError);
  }

  publish(channel: string, message: string): Promise<void> {
    queueMicrotask(() => this.handlers.deliver(channel, message));
    return Promise.resolve();
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
