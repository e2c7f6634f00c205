import type { AppEvent, EventStreamReady } from '@tessera/protocol';

/** One Server-Sent Events message, or a comment line (`comment`). */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
  comment?: string;
}

/** Generous: CI runs on two busy cores. */
const WAIT_MS = 10_000;

/**
 * A small SSE reader over Node's fetch, for tests of the app event stream: `next()` resolves to
 * the next message (comments included), in order.
 */
export class SseStream {
  private readonly queue: SseMessage[] = [];
  private readonly waiters: ((message: SseMessage | undefined) => void)[] = [];
  private ended = false;
  readonly done: Promise<void>;

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    this.done = this.pump();
  }

  static async open(
    url: string,
    key: string | undefined,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; stream?: SseStream; body?: unknown; headers: Headers }> {
    const abort = new AbortController();
    const response = await fetch(url, {
      headers: { ...(key === undefined ? {} : { 'x-tessera-key': key }), accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    });
    if (response.status !== 200) {
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
    }
    return { status: 200, stream: new SseStream(response, abort), headers: response.headers };
  }

  /** The next message or comment; rejects when none comes in time or the stream ended. */
  async next(timeoutMs = WAIT_MS): Promise<SseMessage> {
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    if (this.ended) throw new Error('the stream ended');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new Error(`no SSE message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (message: SseMessage | undefined) => {
        clearTimeout(timer);
        if (message === undefined) reject(new Error('the stream ended'));
        else resolve(message);
      };
      this.waiters.push(waiter);
    });
  }

  /** The next message that is not a comment. */
  async nextMessage(timeoutMs = WAIT_MS): Promise<SseMessage> {
    for (;;) {
      const message = await this.next(timeoutMs);
      if (message.comment === undefined) return message;
    }
  }

  async ready(): Promise<EventStreamReady> {
    const message = await this.nextMessage();
    if (message.event !== 'ready') throw new Error(`expected ready, got ${message.event}`);
    return JSON.parse(message.data) as EventStreamReady;
  }

  /** The next event (skipping comments), checked to agree with its SSE id and event lines. */
  async nextEvent(timeoutMs = WAIT_MS): Promise<AppEvent> {
    const message = await this.nextMessage(timeoutMs);
    const event = JSON.parse(message.data) as AppEvent;
    if (message.event !== event.type || message.id !== String(event.sequence))
      throw new Error(`SSE lines disagree with the event: ${JSON.stringify(message)}`);
    return event;
  }

  /** The next `count` events of the given types, skipping events of other types. */
  async eventsOfType(types: string[], count: number): Promise<AppEvent[]> {
    const found: AppEvent[] = [];
    while (found.length < count) {
      const event = await this.nextEvent();
      if (types.includes(event.type)) found.push(event);
    }
    return found;
  }

  /** Whether a message is already waiting (nothing is read). */
  get pending(): number {
    return this.queue.length;
  }

  close(): void {
    this.abort.abort();
  }

  private async pump(): Promise<void> {
    const body = this.response.body;
    if (body === null) return this.finish();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.push(parseBlock(block));
        }
      }
    } catch {
      // Aborted by close(), or the connection dropped: the stream ended either way.
    }
    this.finish();
  }

  private push(message: SseMessage): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(message);
    else this.queue.push(message);
  }

  private finish(): void {
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}

function parseBlock(block: string): SseMessage {
  const message: SseMessage = { id: undefined, event: 'message', data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      message.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') message.id = value;
    else if (field === 'event') message.event = value;
    else if (field === 'data') data.push(value);
  }
  message.data = data.join('\n');
  return message;
}
