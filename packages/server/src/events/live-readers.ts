import type { AppEvent } from '@tessera/protocol';
import type { Logger } from 'pino';
import { every, type Cancel, type Timeline } from '../lib/scheduler.js';
import type { AppRecord, Repositories } from '../store/repositories/index.js';
import { EVENT_PAGE_SIZE, presentEvent } from './read.js';
import type { EventWakeUps } from './wake-ups.js';

/** One open stream as the readers see it. */
export interface EventSubscriber {
  /** Receives the app's events in sequence order, each after the last it received, none twice. */
  send(events: AppEvent[]): void;
  /** Reading its backlog failed: the stream ends (its client resumes where it was). */
  fail(error: unknown): void;
}

interface Subscription {
  subscriber: EventSubscriber;
  /** The last sequence it received (or its resume point). */
  position: number;
  /** False while it reads its own backlog; the app's reader sends it events only once it is live. */
  live: boolean;
  closed: boolean;
}

/** The one reader of an app on this node, for every stream of the app open here. */
interface AppReader {
  appId: string;
  appPath: string;
  /** The last sequence this reader read; undefined until its first stream is live. */
  last: number | undefined;
  subscriptions: Set<Subscription>;
  reading: boolean;
  /** A wake-up came while reading: read again once done. */
  again: boolean;
}

export interface LiveReadersOptions {
  /** The periodic read that makes up for lost bus messages. */
  pollIntervalMs: number;
  /** Runs the periodic read; tests move it by hand. */
  timeline: Timeline;
  logger: Logger;
}

/**
 * This node's readers of the app event log: one per app with streams open here, never one per
 * stream. A reader reads `sequence > last` from the table when woken (an event committed on any
 * node, the bus link came back, or the periodic tick) and hands what it read to every live stream
 * of the app. A new stream first reads its own backlog from its resume point, page by page, and
 * joins the live ones once it has caught up with the app's reader.
 */
export class LiveEventReaders {
  private readonly readers = new Map<string, AppReader>();
  private readonly stopWakeUps: () => void;
  private readonly stopTick: Cancel;

  constructor(
    private readonly repositories: Repositories,
    wakeUps: EventWakeUps,
    private readonly options: LiveReadersOptions,
  ) {
    this.stopWakeUps = wakeUps.onWake((committed) => {
      if (committed === undefined) this.wakeAll();
      else this.wake(committed.app, committed.sequence);
    });
    this.stopTick = every(options.timeline, options.pollIntervalMs, () => this.wakeAll());
  }

  /** Streams of the app open on this node. */
  streamsOf(appId: string): number {
    return this.readers.get(appId)?.subscriptions.size ?? 0;
  }

  /** Starts sending `subscriber` the app's events after `after`; the returned function stops it. */
  subscribe(app: AppRecord, after: number, subscriber: EventSubscriber): () => void {
    let reader = this.readers.get(app.id);
    if (reader === undefined) {
      reader = {
        appId: app.id,
        appPath: app.path,
        last: undefined,
        subscriptions: new Set(),
        reading: false,
        again: false,
      };
      this.readers.set(app.id, reader);
    }
    const subscription: Subscription = { subscriber, position: after, live: false, closed: false };
    reader.subscriptions.add(subscription);
    void this.catchUp(reader, subscription);
    const owner = reader;
    return () => {
      subscription.closed = true;
      owner.subscriptions.delete(subscription);
      if (owner.subscriptions.size === 0 && this.readers.get(owner.appId) === owner) this.readers.delete(owner.appId);
    };
  }

  /** Stops the periodic reads and the wake-ups; open streams are ended by their owner. */
  close(): void {
    this.stopTick();
    this.stopWakeUps();
  }

  private async catchUp(reader: AppReader, subscription: Subscription): Promise<void> {
    try {
      for (;;) {
        const page = await this.repositories.appEvents.listAfter(reader.appId, subscription.position, EVENT_PAGE_SIZE);
        if (subscription.closed) return;
        this.deliver(
          subscription,
          page.map((record) => presentEvent(record, reader.appPath)),
        );
        if (page.length === EVENT_PAGE_SIZE) continue;
        // Caught up with the table as of that read; the reader may have read further meanwhile.
        if (reader.last !== undefined && reader.last > subscription.position) continue;
        subscription.live = true;
        // The first live stream of the app sets where its reader starts.
        reader.last ??= subscription.position;
        // A wake-up heard before this reader had a starting point was not acted on.
        void this.read(reader);
        return;
      }
    } catch (error) {
      if (!subscription.closed) subscription.subscriber.fail(error);
    }
  }

  private wake(appId: string, sequence: number): void {
    const reader = this.readers.get(appId);
    if (reader !== undefined && (reader.last === undefined || sequence > reader.last)) void this.read(reader);
  }

  private wakeAll(): void {
    for (const reader of this.readers.values()) void this.read(reader);
  }

  private async read(reader: AppReader): Promise<void> {
    if (reader.last === undefined) return;
    if (reader.reading) {
      reader.again = true;
      return;
    }
    reader.reading = true;
    try {
      for (;;) {
        reader.again = false;
        const page = await this.repositories.appEvents.listAfter(reader.appId, reader.last, EVENT_PAGE_SIZE);
        const events = page.map((record) => presentEvent(record, reader.appPath));
        const newest = events.at(-1);
        if (newest !== undefined) reader.last = newest.sequence;
        for (const subscription of reader.subscriptions) if (subscription.live) this.deliver(subscription, events);
        if (page.length < EVENT_PAGE_SIZE && !reader.again) break;
        if (this.readers.get(reader.appId) !== reader) break;
      }
    } catch (error) {
      // The next wake-up or tick reads again from the same point: nothing is skipped.
      this.options.logger.warn({ err: error, app: reader.appPath }, 'could not read the app event log; retrying');
    } finally {
      reader.reading = false;
    }
  }

  private deliver(subscription: Subscription, events: AppEvent[]): void {
    const fresh = events.filter((event) => event.sequence > subscription.position);
    const newest = fresh.at(-1);
    if (newest === undefined || subscription.closed) return;
    subscription.position = newest.sequence;
    subscription.subscriber.send(fresh);
  }
}
