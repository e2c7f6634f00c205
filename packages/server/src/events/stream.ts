import type { ServerResponse } from 'node:http';
import { EVENT_STREAM_KEEP_ALIVE_MS, type AppEvent, type EventStreamReady } from '@tessera/protocol';
import type { Logger } from 'pino';
import { TesseraError } from '../errors.js';
import { every, type Timeline } from '../lib/scheduler.js';
import type { AppRecord, Repositories } from '../store/repositories/index.js';
import type { LiveEventReaders } from './live-readers.js';
import { resumePoint, retentionSecondsOf } from './read.js';

/** Bytes that may wait to be sent to one stream; past that it ends, and its client resumes where it was. */
export const MAX_STREAM_BUFFERED_BYTES = 1_048_576;

export interface EventStreamsOptions {
  /** The server's retention setting (see retentionSecondsOf). */
  retentionSeconds: number;
  maxStreamsPerApp: number;
  /** Runs the keep-alive comments; tests move it by hand. */
  timeline: Timeline;
  logger: Logger;
}

/** One SSE message: `id`, `event` and `data` lines, then a blank line. */
export function sseMessage(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The event streams open on this node: each one's `ready`, backlog and live events (through
 * the app's reader), its keep-alive comments, the per-app limit, and their end on shutdown.
 */
export class EventStreams {
  private readonly open = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly repositories: Repositories,
    private readonly readers: LiveEventReaders,
    private readonly options: EventStreamsOptions,
  ) {}

  /** Streams open on this node, all apps together. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Throws `too_many_event_streams` when the app holds as many streams here as it may, and
   * `server_shutdown` once the server is closing: call it before answering.
   */
  assertRoom(app: AppRecord): void {
    if (this.closed) throw new TesseraError('server_shutdown', { retryAfterSeconds: 1 });
    if (this.readers.streamsOf(app.id) >= this.options.maxStreamsPerApp)
      throw new TesseraError('too_many_event_streams', {
        retryAfterSeconds: 5,
        details: { maxStreamsPerApp: this.options.maxStreamsPerApp },
      });
  }

  /**
   * Where a stream resuming after `requested` starts (see resumePoint); read before the
   * response's head is written, so that a failing store still answers with an error.
   */
  ready(app: AppRecord, requested: number | undefined): Promise<EventStreamReady> {
    const retention = retentionSecondsOf(app, this.options.retentionSeconds);
    return resumePoint(this.repositories, app.id, requested, retention);
  }

  /**
   * Streams the app's events after `ready.after` on `response`, whose head was written, until
   * either side ends it. `keyStillValid` is asked at every keep-alive beat: a stream whose key
   * was revoked or deleted ends then.
   */
  serve(
    app: AppRecord,
    ready: EventStreamReady,
    response: ServerResponse,
    keyStillValid: () => Promise<boolean>,
  ): void {
    let lastWrite = this.options.timeline.now();
    const write = (text: string) => {
      if (response.writableEnded) return;
      lastWrite = this.options.timeline.now();
      response.write(text);
      // A subscriber that does not read must not make the server buffer without bound.
      if (response.writableLength > MAX_STREAM_BUFFERED_BYTES) end();
    };
    const stopKeepAlive = every(this.options.timeline, EVENT_STREAM_KEEP_ALIVE_MS, () => {
      if (this.options.timeline.now() - lastWrite >= EVENT_STREAM_KEEP_ALIVE_MS - 1) write(': keep-alive\n\n');
      void keyStillValid().then((valid) => {
        if (!valid) end();
      });
    });
    let unsubscribe = () => undefined as unknown;
    const end = () => {
      if (!this.open.delete(end)) return;
      stopKeepAlive();
      unsubscribe();
      if (!response.writableEnded) response.end();
    };
    this.open.add(end);
    response.on('close', end);
    write(sseMessage(ready.after, 'ready', ready));
    unsubscribe = this.readers.subscribe(app, ready.after, {
      send: (events: AppEvent[]) =>
        write(events.map((event) => sseMessage(event.sequence, event.type, event)).join('')),
      fail: (error) => {
        this.options.logger.warn(
          { err: error, app: app.path },
          'an event stream could not read its backlog; ending it',
        );
        end();
      },
    });
    // The first write may have ended it already (a client gone at once).
    if (!this.open.has(end)) unsubscribe();
  }

  /** Ends every stream (shutdown): subscribers reconnect, to another node, and resume where they were. */
  close(): void {
    this.closed = true;
    for (const end of [...this.open]) end();
    this.readers.close();
  }
}
