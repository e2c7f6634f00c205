import { ERROR_CODES, type AppEvent, type ErrorCode, type EventStreamReady } from '@tessera/protocol';
import { VerifierError } from './errors.js';
import { SseParser, type SseMessage } from './sse.js';
import type { Timeline } from './timeline.js';

/**
 * Where the revocation feed stands: `connecting` until Tessera's stream first said `ready`;
 * `live` while the stream is open; `down` while it is lost and being reconnected; `refused`
 * when Tessera refused the secret key (401) or its scope (403), a configuration error retried
 * only every `backoff.maxMs`; `closed` after `close()`; `off` without a secret key (no feed).
 */
export type FeedStatus = 'off' | 'connecting' | 'live' | 'down' | 'refused' | 'closed';

export interface EventStreamOptions {
  /** `{url}/v1/apps/{ns}/{app}/events`. */
  url: string;
  secretKey: string;
  timeline: Timeline;
  /** Without any byte for this long (keep-alives come every 15 s), the stream is taken for dead. */
  silenceMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  random: () => number;
  onReady(ready: EventStreamReady): void;
  onEvent(event: AppEvent): void;
  onStatus(status: FeedStatus): void;
  onError(error: VerifierError): void;
}

/**
 * Tessera's app event stream, kept open: fetched with the secret key, read through the SSE
 * parser, resumed with `Last-Event-ID` after each reconnection (capped, jittered exponential
 * backoff), dropped when it stays silent for `silenceMs`.
 */
export class EventStream {
  status: FeedStatus = 'connecting';
  private lastSequence: number | undefined;
  private attempt = 0;
  private controller: AbortController | undefined;
  private lastByteAt = 0;
  private cancelTimer: () => void = () => {};

  constructor(private readonly options: EventStreamOptions) {}

  start(): void {
    void this.connect();
  }

  close(): void {
    this.setStatus('closed');
    this.cancelTimer();
    this.controller?.abort(new VerifierError('unavailable', { message: 'The verifier is closed.' }));
  }

  private async connect(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    this.lastByteAt = this.options.timeline.now();
    this.watchSilence(controller);
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', 'x-tessera-key': this.options.secretKey };
      if (this.lastSequence !== undefined) headers['last-event-id'] = String(this.lastSequence);
      const response = await fetch(this.options.url, { headers, signal: controller.signal });
      if (response.status === 401 || response.status === 403) return await this.refused(response);
      if (response.status !== 200 || response.body === null) {
        await response.body?.cancel();
        throw new VerifierError('unavailable', { message: `The event stream answered HTTP ${response.status}.` });
      }
      await this.read(response.body, controller);
      throw new VerifierError('unavailable', { message: 'Tessera ended the event stream.' });
    } catch (caught) {
      if (this.status === 'closed') return;
      // An abort of ours (silence) says why better than the error the read failed with.
      const error: unknown = controller.signal.aborted ? controller.signal.reason : caught;
      this.options.onError(
        error instanceof VerifierError
          ? error
          : new VerifierError('unavailable', { message: 'The event stream was lost.', cause: error }),
      );
      if (this.status === 'live') this.setStatus('down');
      this.retryAfter(this.backoff());
    } finally {
      controller.abort();
    }
  }

  private async read(body: ReadableStream<Uint8Array>, controller: AbortController): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (done || controller.signal.aborted) return;
      this.lastByteAt = this.options.timeline.now();
      for (const message of parser.push(decoder.decode(value, { stream: true }))) this.dispatch(message);
    }
  }

  private dispatch(message: SseMessage): void {
    const sequence = Number(message.id);
    if (message.event === 'ready') {
      const ready = parseJson(message.data) as EventStreamReady | undefined;
      if (typeof ready?.after !== 'number')
        throw new VerifierError('unavailable', { message: 'Malformed ready message.' });
      this.lastSequence = ready.after;
      this.attempt = 0;
      this.setStatus('live');
      this.options.onReady(ready);
      return;
    }
    if (!Number.isSafeInteger(sequence) || (this.lastSequence !== undefined && sequence <= this.lastSequence)) return;
    this.lastSequence = sequence;
    const event = parseJson(message.data) as AppEvent | undefined;
    if (event?.type !== message.event) {
      this.options.onError(
        new VerifierError('unavailable', { message: `Event ${sequence} (${message.event}) is not readable; skipped.` }),
      );
      return;
    }
    this.options.onEvent(event);
  }

  private async refused(response: Response): Promise<void> {
    const body = (await response.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
    const code = body?.error?.code;
    const known: ErrorCode = code !== undefined && code in ERROR_CODES ? (code as ErrorCode) : 'forbidden';
    const hint =
      response.status === 401
        ? 'check the secret key given to createVerifier'
        : 'the secret key needs the scope sessions:read';
    this.setStatus('refused');
    this.options.onError(
      new VerifierError(known, { message: `Tessera refused the event stream (HTTP ${response.status}): ${hint}.` }),
    );
    this.retryAfter(this.options.maxBackoffMs);
  }

  /** Capped exponential backoff with jitter: between half and all of min(max, initial × 2^attempt). */
  private backoff(): number {
    const ceiling = Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return ceiling / 2 + (this.options.random() * ceiling) / 2;
  }

  private retryAfter(delayMs: number): void {
    this.cancelTimer();
    if (this.status === 'closed') return;
    this.cancelTimer = this.options.timeline.at(this.options.timeline.now() + delayMs, () => void this.connect());
  }

  /** Aborts the connection once no byte came for `silenceMs` (the timer re-arms itself rather than moving on each chunk). */
  private watchSilence(controller: AbortController): void {
    const { timeline, silenceMs } = this.options;
    const check = () => {
      if (controller.signal.aborted || this.controller !== controller) return;
      const due = this.lastByteAt + silenceMs;
      if (timeline.now() < due) return void (this.cancelTimer = timeline.at(due, check));
      controller.abort(
        new VerifierError('unavailable', { message: `The event stream sent nothing for ${silenceMs / 1000} s.` }),
      );
    };
    this.cancelTimer();
    this.cancelTimer = timeline.at(this.lastByteAt + silenceMs, check);
  }

  private setStatus(status: FeedStatus): void {
    if (this.status === status || this.status === 'closed') return;
    this.status = status;
    this.options.onStatus(status);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
