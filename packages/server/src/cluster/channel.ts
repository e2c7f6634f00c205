import type { Logger } from 'pino';
import type { ClusterBus } from './bus.js';

/** What a feature sends; the channel adds the sender's `node`, so a message may not carry its own. */
export type ChannelMessage = object & { node?: never };

export interface ChannelOptions<M extends ChannelMessage> {
  /** A message from another node (this node's own are dropped before they are parsed). */
  onMessage: (message: M, fromNode: string) => void;
  /** The bus link dropped (`false`) or came back (`true`): messages of the gap are lost. */
  onLinkChange?: (connected: boolean) => void;
  logger: Logger;
}

/** One typed channel of the cluster bus: see `openChannel`. */
export interface Channel<M extends ChannelMessage> {
  readonly nodeId: string;
  /** Whether messages from other nodes reach this node now. */
  readonly connected: boolean;
  /** Resolves whether the broker took the message; never rejects (see `openChannel` on failures). */
  publish(message: M): Promise<boolean>;
  /** Stops hearing messages and link changes. */
  close(): void;
}

/**
 * A channel between nodes for messages of type `M`, as JSON `{"node":<sender>,…message}`. The
 * sender comes first so that this node skips its own messages without parsing them. A publish
 * that fails is logged once per outage, when it starts, and once more when publishing works again.
 */
export function openChannel<M extends ChannelMessage>(
  bus: ClusterBus,
  name: string,
  options: ChannelOptions<M>,
): Channel<M> {
  const ownPrefix = `{"node":${JSON.stringify(bus.nodeId)},`;
  const unsubscribe = bus.subscribe(name, (raw) => {
    if (raw.startsWith(ownPrefix)) return;
    const { node, ...message } = JSON.parse(raw) as { node: string } & Record<string, unknown>;
    // Nodes of an older version put the sender elsewhere in the object.
    if (node !== bus.nodeId) options.onMessage(message as unknown as M, node);
  });
  const stopLinkWatch = options.onLinkChange === undefined ? () => undefined : bus.onLinkChange(options.onLinkChange);
  let failing = false;
  return {
    nodeId: bus.nodeId,
    get connected() {
      return bus.connected;
    },
    async publish(message) {
      try {
        await bus.publish(name, JSON.stringify({ node: bus.nodeId, ...message }));
      } catch (error) {
        if (!failing)
          options.logger.warn(
            { err: error, channel: name },
            'could not tell the other nodes; logged once until it works again',
          );
        failing = true;
        return false;
      }
      if (failing) options.logger.info({ channel: name }, 'telling the other nodes works again');
      failing = false;
      return true;
    },
    close() {
      unsubscribe();
      stopLinkWatch();
    },
  };
}
