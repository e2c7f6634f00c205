import type { Logger } from 'pino';
import { openChannel, type Channel, type ClusterBus } from '../cluster/index.js';

/** The bus channel on which a node says it committed an app's event. */
export const APP_EVENTS_CHANNEL = 'app-events';

/** `app`: the app's id; `sequence`: the event just committed. */
export interface EventCommitted {
  app: string;
  sequence: number;
}

/**
 * Wake-ups of the live readers: an event committed on this node, or on another one (heard on
 * the bus), or the bus link came back (what was said while it was down is lost, so every reader
 * reads again). A wake-up carries no event: readers read the table, which is the truth; a lost
 * wake-up only delays an event until the readers' periodic tick.
 */
export class EventWakeUps {
  private readonly listeners = new Set<(committed: EventCommitted | undefined) => void>();
  private readonly channel: Channel<EventCommitted>;

  constructor(bus: ClusterBus, logger: Logger) {
    this.channel = openChannel<EventCommitted>(bus, APP_EVENTS_CHANNEL, {
      logger,
      onMessage: (message) => this.wake(message),
      onLinkChange: (connected) => {
        if (connected) this.wake(undefined);
      },
    });
  }

  /** An event committed on this node: wake this node's reader of the app, then tell the others. */
  committed(committed: EventCommitted): void {
    this.wake(committed);
    // Never rejects (see openChannel); a lost message is made up for by the readers' tick.
    void this.channel.publish(committed);
  }

  /** `listener(undefined)`: every app may have new events (the bus link came back). */
  onWake(listener: (committed: EventCommitted | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.channel.close();
    this.listeners.clear();
  }

  private wake(committed: EventCommitted | undefined): void {
    for (const listener of this.listeners) listener(committed);
  }
}
