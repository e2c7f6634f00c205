import type { Redis } from 'ioredis';
import { ChannelHandlers, LinkListeners, type BusHandler, type ClusterBus } from './bus.js';

/**
 * The cluster bus on Redis pub/sub. Publishing goes through the command connection; listening
 * takes a connection of its own (a subscribed Redis connection can do nothing else). The link
 * counts as up only once every channel is subscribed again after a (re)connection, so a node
 * never believes it is hearing everything while it is not.
 */
export class RedisBus implements ClusterBus {
  private readonly handlers: ChannelHandlers;
  private readonly links = new LinkListeners();
  private linkUp = false;
  private closed = false;

  constructor(
    readonly nodeId: string,
    private readonly publisher: Redis,
    /** A connection made for this bus alone, with autoResubscribe off: the bus resubscribes itself. */
    private readonly subscriber: Redis,
    /** Namespaces this deployment's channels, e.g. `tessera:`. */
    private readonly prefix: string,
    onHandlerError: (error: unknown, channel: string) => void,
  ) {
    this.handlers = new ChannelHandlers(onHandlerError);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel.startsWith(this.channelPrefix))
        this.handlers.deliver(channel.slice(this.channelPrefix.length), message);
    });
    subscriber.on('ready', () => void this.resubscribe());
    subscriber.on('close', () => this.setLink(false));
    if (subscriber.status === 'ready') void this.resubscribe();
  }

  get connected(): boolean {
    return this.linkUp;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(this.channelPrefix + channel, message);
  }

  subscribe(channel: string, handler: BusHandler): () => void {
    if (this.handlers.add(channel, handler) && this.subscriber.status === 'ready') {
      // A failure here means the connection dropped: 'close' marks the link down and 'ready' resubscribes.
      this.subscriber.subscribe(this.channelPrefix + channel).catch(() => undefined);
    }
    return () => {
      if (this.handlers.remove(channel, handler) && this.subscriber.status === 'ready') {
        this.subscriber.unsubscribe(this.channelPrefix + channel).catch(() => undefined);
      }
    };
  }

  onLinkChange(listener: (connected: boolean) => void): () => void {
    return this.links.add(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setLink(false);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private get channelPrefix(): string {
    return `${this.prefix}bus:`;
  }

  private async resubscribe(): Promise<void> {
    const channels = this.handlers.channels.map((channel) => this.channelPrefix + channel);
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels);
      this.setLink(true);
    } catch {
      // The connection dropped again while subscribing; its next 'ready' tries again.
    }
  }

  private setLink(up: boolean): void {
    if (this.closed && up) return;
    if (this.linkUp === up) return;
    this.linkUp = up;
    this.links.emit(up);
  }
}
