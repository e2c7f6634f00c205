import type {
  ClientFrame,
  PresenceJoinFrame,
  PresenceLeaveFrame,
  PresenceStateFrame,
  ServerFrame,
  SessionExpiringFrame,
  User,
} from '@tessera/protocol';
import type { SessionInfo } from './events-types.js';
import type { RealtimeCloseEvent } from './realtime-close.js';

/** The part of the WebSocket API the client uses: the browser's `WebSocket` and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * `closed`: not wanted (never connected, or closed by the app or for good). `connecting`:
 * opening and authenticating. `open`: authenticated. `reconnecting`: waiting to try again.
 * `suspended`: the session ended; a new login reconnects.
 */
export type RealtimeState = 'closed' | 'connecting' | 'open' | 'reconnecting' | 'suspended';

export interface RealtimeEvents {
  /** Authenticated: the connection is usable. */
  open: { connectionId: string; user: User; session: SessionInfo };
  /** The connection closed; `reason` says why and `willReconnect` what happens next. */
  close: RealtimeCloseEvent;
  state: RealtimeState;
  /** Every frame the server sent. */
  frame: ServerFrame;
  /** The server warns of an expiry: the client refreshes by itself for `access_token` and pings for `idle`. */
  expiring: SessionExpiringFrame;
  presence: PresenceStateFrame | PresenceJoinFrame | PresenceLeaveFrame;
}

export interface RealtimeOptions {
  /** The WebSocket class; defaults to the global one. In Node.js 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** First reconnect delay's ceiling (ms); doubles per attempt. Default 500. */
  initialDelayMs?: number;
  /** Largest reconnect delay's ceiling (ms). Default 30,000. */
  maxDelayMs?: number;
  /** Attempts in a row before giving up. Default: never give up. */
  maxAttempts?: number;
  /** Random source in [0, 1) for jitter. Default Math.random. */
  random?: () => number;
  /** Ping this often to keep the session active and to notice a dead connection (ms); 0 disables. Default 25,000. */
  pingIntervalMs?: number;
  /** How long to wait for the answer to a frame (ms). Default 10,000. */
  answerTimeoutMs?: number;
}

/** A client frame without its `id`: the connection numbers its requests itself. */
export type OutgoingFrame = ClientFrame extends infer F ? (F extends unknown ? Omit<F, 'id'> : never) : never;
