import {
  ERROR_CODES,
  REALTIME_SUBPROTOCOL,
  isErrorCode,
  type AuthenticatedFrame,
  type ClientFrame,
  type PresenceJoinFrame,
  type PresenceLeaveFrame,
  type PresenceStateFrame,
  type ServerFrame,
  type SessionExpiringFrame,
  type User,
} from '@tessera/protocol';
import type { Cancel, Clock } from './clock.js';
import type { Credentials } from './credentials.js';
import { AuthenticationError, errorOfCode, NetworkError, ServerError, TesseraError } from './errors.js';
import { Emitter, type Unsubscribe } from './events.js';
import { reasonOf, type SessionEndedEvent, type SessionInfo } from './events-types.js';
import { backoffDelay, describeClose, type RealtimeCloseEvent } from './realtime-close.js';
import { sessionInfo, unusable, type SessionManager } from './session.js';

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

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(error: unknown): void;
  cancel: Cancel;
}

/**
 * The client's realtime connection: authenticates in band, follows the session's tokens with
 * in-band refreshes, reconnects after drops with full-jitter exponential backoff, and stops on
 * the close codes that forbid a reconnect, telling the app why.
 */
export class RealtimeConnection {
  private readonly emitter = new Emitter<RealtimeEvents>();
  private readonly WebSocket: WebSocketConstructor | undefined;
  private ws: WebSocketLike | undefined;
  private current: RealtimeState = 'closed';
  private wanted = false;
  private dialing = false;
  private syncing = false;
  private attempt = 0;
  private nextId = 1;
  private lastHeard = 0;
  private readonly pending = new Map<string, Pending>();
  private bound: Credentials | undefined;
  private presence: { userIds?: string[] } | undefined;
  private cancelRetry: Cancel | undefined;
  private cancelPing: Cancel | undefined;
  private releaseFresh: (() => void) | undefined;
  private waiters: { resolve(): void; reject(error: unknown): void }[] = [];
  private readonly stopListening: Unsubscribe[];

  constructor(
    private readonly session: SessionManager,
    private readonly url: string,
    private readonly clock: Clock,
    private readonly options: RealtimeOptions,
  ) {
    this.WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.stopListening = [session.events.on('credentials', (next) => this.credentialsChanged(next)), session.events.on('sessionEnded', (event) => this.sessionEnded(event))];
  }

  /** The connection's state. */
  get state(): RealtimeState {
    return this.current;
  }

  /** Listens to one kind of event; returns the function that stops listening. */
  on<K extends keyof RealtimeEvents>(type: K, listener: (event: RealtimeEvents[K]) => void): Unsubscribe {
    return this.emitter.on(type, listener);
  }

  /** Opens the connection, and keeps it open until {@link close}. Resolves once authenticated. */
  connect(): Promise<void> {
    if (this.WebSocket === undefined) return Promise.reject(new TypeError('No WebSocket here: pass one, e.g. createClient({ WebSocket }) with the ws package in Node.js 20'));
    if (this.current === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.wanted) {
      this.wanted = true;
      this.attempt = 0;
      this.releaseFresh = this.session.keepFresh();
    }
    if (this.current !== 'connecting') void this.dial();
    return opened;
  }

  /** Closes the connection for good (until the next {@link connect}). */
  close(): void {
    const ws = this.ws;
    if (ws !== undefined) this.teardown(ws);
    ws?.close(1000, 'closed');
    this.stop({ reason: 'closed', closeCode: 1000, willReconnect: false }, new NetworkError('network_error', { message: 'The realtime connection was closed by the app.' }));
  }

  /** Sends a frame and resolves with the server's answer to it (rejects with the error it answered). */
  request<T extends ServerFrame = ServerFrame>(frame: OutgoingFrame, ws: WebSocketLike | undefined = this.current === 'open' ? this.ws : undefined): Promise<T> {
    if (ws === undefined) return Promise.reject(new NetworkError('network_error', { message: 'The realtime connection is not open.' }));
    const id = `c${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const cancel = this.clock.at(this.clock.now() + (this.options.answerTimeoutMs ?? 10_000), () => {
        this.pending.delete(id);
        reject(new NetworkError('timeout', { message: `No answer to ${frame.type} in time.`, retryable: true }));
      });
      this.pending.set(id, { resolve: resolve as (frame: ServerFrame) => void, reject, cancel });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Follows who comes online and goes offline (all users of the app, or these); kept across reconnects. */
  subscribePresence(userIds?: string[]): Promise<PresenceStateFrame> {
    this.presence = userIds === undefined ? {} : { userIds };
    return this.request<PresenceStateFrame>({ type: 'presence.subscribe', ...this.presence });
  }

  /** Stops presence events. */
  unsubscribePresence(): void {
    this.presence = undefined;
    if (this.current === 'open') this.ws?.send(JSON.stringify({ type: 'presence.unsubscribe' }));
  }

  /** Who is online now (all users of the app, or these). */
  queryPresence(userIds?: string[]): Promise<PresenceStateFrame> {
    return this.request<PresenceStateFrame>({ type: 'presence.query', ...(userIds === undefined ? {} : { userIds }) });
  }

  /** Closes and stops listening to the session; the object is unusable after. */
  dispose(): void {
    this.close();
    for (const stop of this.stopListening) stop();
  }

  private setState(state: RealtimeState): void {
    if (this.current === state) return;
    this.current = state;
    this.emitter.emit('state', state);
  }

  private async dial(): Promise<void> {
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    if (!this.wanted || this.dialing || this.ws !== undefined || this.WebSocket === undefined) return;
    this.dialing = true;
    this.setState('connecting');
    try {
      await this.session.fresh();
    } catch (error) {
      this.dialing = false;
      return this.dialFailed(error);
    }
    this.dialing = false;
    if (!this.wanted || this.ws !== undefined) return;
    const ws = new this.WebSocket(this.url, [REALTIME_SUBPROTOCOL]);
    this.ws = ws;
    ws.onopen = () => void this.authenticate(ws);
    ws.onmessage = (event: { data: unknown }) => this.receive(ws, event.data);
    ws.onclose = (event: { code: number; reason: string }) => void this.closed(ws, event.code, event.reason);
    // The close event that follows carries the code.
    ws.onerror = () => undefined;
  }

  private dialFailed(error: unknown): void {
    // A session that ended on the way has suspended the connection already, and said why.
    if (!this.wanted || this.current === 'suspended') return;
    const code = error instanceof TesseraError ? error.code : undefined;
    // No session (never logged in, or it just ended and said so): wait for a login.
    if (code === 'missing_credentials' || unusable(error)) return this.suspend({ reason: unusable(error) ? reasonOf(error) : 'expired', closeCode: 1000, willReconnect: false }, error);
    if (error instanceof TesseraError && error.retryable) return this.retryLater({ reason: code === 'rate_limited' ? 'rate_limited' : 'network', closeCode: 1006 });
    this.stop({ reason: 'rejected', closeCode: 1000, willReconnect: false, ...(error instanceof TesseraError && isErrorCode(error.code) ? { code: error.code } : {}) }, error);
  }

  /** In band, under the lock: the authenticate frame rotates the session's tokens, as a login does. */
  private async authenticate(ws: WebSocketLike): Promise<void> {
    let credentials: Credentials;
    let connectionId = '';
    try {
      credentials = await this.session.rotate(async (stored) => {
        if (stored === null) throw new AuthenticationError('missing_credentials', { message: 'Logged out meanwhile.' });
        const frame = await this.request<AuthenticatedFrame>({ type: 'authenticate', strategy: 'access-token', accessToken: stored.accessToken }, ws);
        const { accessToken, reconnectToken, authentication, session, user } = frame;
        if (accessToken === undefined || reconnectToken === undefined || authentication.reconnectTokenExpiresAt === undefined) {
          throw new ServerError('invalid_response', { message: 'The authenticated frame carries no tokens.' });
        }
        connectionId = frame.connectionId;
        return { accessToken, reconnectToken, session, user, authentication: { ...authentication, reconnectTokenExpiresAt: authentication.reconnectTokenExpiresAt } };
      });
    } catch (error) {
      // A close decides by its own code; a refusal that left the socket open is decided here.
      if (ws === this.ws) this.abandon(ws, error);
      return;
    }
    if (ws !== this.ws) return;
    this.bound = credentials;
    this.attempt = 0;
    this.lastHeard = this.clock.now();
    this.setState('open');
    this.schedulePing(ws);
    if (this.presence !== undefined) this.request({ type: 'presence.subscribe', ...this.presence }, ws).catch(() => undefined);
    this.emitter.emit('open', { connectionId, user: credentials.user, session: sessionInfo(credentials) });
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
    // Tokens may have moved on while the frame was answered.
    void this.syncTokens(ws);
  }

  private receive(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.ws) return;
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
      if (frame.type === 'error') pending.reject(errorOfCode(frame.code, { message: frame.message, details: frame.details }));
      else pending.resolve(frame);
    }
    if (frame.type === 'session.expiring') this.expiring(ws, frame);
    else if (frame.type === 'presence.state' || frame.type === 'presence.join' || frame.type === 'presence.leave') this.emitter.emit('presence', frame);
    this.emitter.emit('frame', frame);
  }

  private expiring(ws: WebSocketLike, frame: SessionExpiringFrame): void {
    this.emitter.emit('expiring', frame);
    const held = this.session.held;
    if (frame.reason === 'idle') ws.send(JSON.stringify({ type: 'ping' }));
    else if (frame.reason === 'access_token' && held !== null) {
      if (held.accessToken !== this.bound?.accessToken) void this.syncTokens(ws);
      else this.session.refresh(held).catch(() => undefined);
    }
  }

  /** New tokens in the session: the same user continues in band; another user needs a new connection. */
  private credentialsChanged(next: Credentials | null): void {
    if (!this.wanted || next === null) return;
    if (this.current === 'suspended') return void this.dial();
    if (this.current === 'open' && this.ws !== undefined) void this.syncTokens(this.ws);
  }

  private async syncTokens(ws: WebSocketLike): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      for (;;) {
        const next = this.session.held;
        const bound = this.bound;
        if (ws !== this.ws || this.current !== 'open' || next === null || bound === undefined || next.accessToken === bound.accessToken) return;
        if (next.user.id !== bound.user.id) return this.abandon(ws, undefined);
        await this.request({ type: 'refresh', accessToken: next.accessToken }, ws);
        if (ws === this.ws) this.bound = next;
      }
    } catch (error) {
      if (ws === this.ws) this.abandon(ws, error);
    } finally {
      this.syncing = false;
    }
  }

  /** The session ended (learnt over REST, from another tab, or by logout): close and wait for a login. */
  private sessionEnded(event: SessionEndedEvent): void {
    if (!this.wanted || this.current === 'suspended') return;
    const ws = this.ws;
    if (ws !== undefined) this.teardown(ws);
    ws?.close(1000, 'session ended');
    const code = event.error !== undefined && isErrorCode(event.error.code) ? { code: event.error.code } : {};
    this.suspend({ reason: event.reason, closeCode: 1000, willReconnect: false, ...code, ...(event.detail === undefined ? {} : { detail: event.detail }) }, event.error);
  }

  /** Drops a socket the client gave up on, deciding as for a close with the error's close code. */
  private abandon(ws: WebSocketLike, error: unknown): void {
    const code = error instanceof TesseraError && isErrorCode(error.code) ? error.code : undefined;
    const closeCode = code === undefined ? 1006 : ERROR_CODES[code].closeCode;
    void this.closed(ws, code === undefined && error === undefined ? 1000 : closeCode, code ?? '');
    ws.close(1000);
  }

  private async closed(ws: WebSocketLike, closeCode: number, reasonText: string): Promise<void> {
    if (ws !== this.ws) return;
    this.teardown(ws);
    const bound = this.bound;
    this.bound = undefined;
    if (!this.wanted) return;
    const close = describeClose(closeCode, reasonText);
    const event = { reason: close.reason, closeCode, ...(close.code === undefined ? {} : { code: close.code }), ...(close.detail === undefined ? {} : { detail: close.detail }) };
    if (close.reconnect) return this.retryLater(event);
    const error = close.code === undefined ? undefined : errorOfCode(close.code, close.detail === undefined ? {} : { details: { reason: close.detail } });
    if (close.code === 'missing_credentials') return this.suspend({ ...event, willReconnect: false }, error);
    if (error === undefined || !unusable(error) || bound === undefined) return this.stop({ ...event, willReconnect: false }, error);
    // An upgrade (or a login) may have moved the session on while its old one was revoked.
    await this.session.settled();
    const held = this.session.held;
    if (held !== null && held.session.id !== bound.session.id) return void this.dial();
    this.suspend({ ...event, willReconnect: false }, error);
    await this.session.end(bound, reasonOf(error), error, close.detail);
    if (event.reason !== 'logged_out' && (await this.session.recover(error, bound))) void this.dial();
  }

  private retryLater(event: Omit<RealtimeCloseEvent, 'willReconnect'>): void {
    const { maxAttempts = Number.POSITIVE_INFINITY, initialDelayMs = 500, maxDelayMs = 30_000, random = Math.random } = this.options;
    if (this.attempt >= maxAttempts) return this.stop({ ...event, willReconnect: false }, new NetworkError('network_error', { message: 'Gave up reconnecting.' }));
    const delayMs = backoffDelay(this.attempt, initialDelayMs, maxDelayMs, random);
    this.attempt += 1;
    this.setState('reconnecting');
    this.emitter.emit('close', { ...event, willReconnect: true, delayMs });
    this.cancelRetry = this.clock.at(this.clock.now() + delayMs, () => void this.dial());
  }

  private suspend(event: RealtimeCloseEvent, error: unknown): void {
    this.setState('suspended');
    this.emitter.emit('close', event);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private stop(event: RealtimeCloseEvent, error: unknown): void {
    const wasWanted = this.wanted;
    this.wanted = false;
    this.cancelRetry?.();
    this.releaseFresh?.();
    this.releaseFresh = undefined;
    this.setState('closed');
    if (wasWanted) this.emitter.emit('close', event);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error ?? new NetworkError('network_error', { message: `The realtime connection closed (${event.closeCode}).` }));
  }

  private schedulePing(ws: WebSocketLike): void {
    const interval = this.options.pingIntervalMs ?? 25_000;
    if (interval <= 0) return;
    this.cancelPing = this.clock.at(this.clock.now() + interval, () => {
      if (ws !== this.ws) return;
      // Nothing heard for two intervals, not even a pong: the connection is dead.
      if (this.clock.now() - this.lastHeard > 2 * interval) return this.abandon(ws, new NetworkError('timeout'));
      ws.send(JSON.stringify({ type: 'ping' }));
      this.schedulePing(ws);
    });
  }

  /** Forgets a socket: no more events from it, its pending requests fail. */
  private teardown(ws: WebSocketLike): void {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (this.ws === ws) this.ws = undefined;
    this.cancelPing?.();
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.cancel();
      pending.reject(new NetworkError('network_error', { message: 'The realtime connection closed.' }));
    }
  }
}
