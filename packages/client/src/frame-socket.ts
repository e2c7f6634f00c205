import { REALTIME_SUBPROTOCOL, type ServerFrame } from '@tessera/protocol';
import type { Cancel, Clock } from './clock.js';
import { errorOfCode, NetworkError } from './errors.js';
import type { OutgoingFrame, WebSocketConstructor, WebSocketLike } from './realtime-types.js';

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(error: unknown): void;
  cancel: Cancel;
}

export interface FrameSocketHandlers {
  open(): void;
  frame(frame: ServerFrame): void;
  close(closeCode: number, reason: string): void;
}

/**
 * One WebSocket of the realtime protocol: JSON frames out, parsed frames in, and requests
 * answered by the frame that echoes their `id`. Once dropped it is silent, and its pending
 * requests fail.
 */
export class FrameSocket {
  /** When a frame last arrived, on the clock. */
  lastHeard: number;
  private readonly ws: WebSocketLike;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;

  constructor(
    WebSocket: WebSocketConstructor,
    url: string,
    private readonly clock: Clock,
    private readonly answerTimeoutMs: number,
    handlers: FrameSocketHandlers,
  ) {
    this.lastHeard = clock.now();
    const ws = (this.ws = new WebSocket(url, [REALTIME_SUBPROTOCOL]));
    ws.onopen = () => handlers.open();
    ws.onmessage = (event: { data: unknown }) => this.receive(event.data, handlers);
    ws.onclose = (event: { code: number; reason: string }) => handlers.close(event.code, event.reason);
    // The close event that follows an error carries the code; an error without a listener would throw (ws).
    ws.onerror = () => undefined;
  }

  send(frame: OutgoingFrame): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends `frame` with a fresh id; resolves with the answer, rejects with an `error` answer's error. */
  request<T extends ServerFrame>(frame: OutgoingFrame): Promise<T> {
    const id = `c${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const cancel = this.clock.at(this.clock.now() + this.answerTimeoutMs, () => {
        this.pending.delete(id);
        reject(new NetworkError('timeout', { message: `No answer to ${frame.type} in time.`, retryable: true }));
      });
      this.pending.set(id, { resolve: resolve as (frame: ServerFrame) => void, reject, cancel });
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** No more events from this socket, its pending requests fail, and it closes. */
  drop(): void {
    this.ws.onopen = this.ws.onmessage = this.ws.onclose = null;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.cancel();
      pending.reject(new NetworkError('network_error', { message: 'The realtime connection closed.' }));
    }
    this.ws.close(1000);
  }

  private receive(data: unknown, handlers: FrameSocketHandlers): void {
    this.lastHeard = this.clock.now();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data)) as ServerFrame;
    } catch {
      return;
    }
    const id = 'id' in frame && frame.id !== undefined ? String(frame.id) : undefined;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (id !== undefined && pending !== undefined) {
      this.pending.delete(id);
      pending.cancel();
      if (frame.type === 'error')
        pending.reject(errorOfCode(frame.code, { message: frame.message, details: frame.details }));
      else pending.resolve(frame);
    }
    handlers.frame(frame);
  }
}
