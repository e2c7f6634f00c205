import {
  ERROR_CODES,
  isErrorCode,
  type AuthenticatedFrame,
  type PresenceStateFrame,
  type ServerFrame,
  type SessionExpiringFrame,
} from '@tessera/protocol';
import type { Cancel, Clock } from './clock.js';
import type { Credentials } from './credentials.js';
import { AuthenticationError, errorOfCode, NetworkError, ServerError, TesseraError } from './errors.js';
import { Emitter, type Unsubscribe } from './events.js';
import { reasonOf, type SessionEndedEvent } from './events-types.js';
import { FrameSocket } from './frame-socket.js';
import { backoffDelay, describeClose, type RealtimeCloseEvent } from './realtime-close.js';
import type {
  OutgoingFrame,
  RealtimeEvents,
  RealtimeOptions,
  RealtimeState,
  WebSocketConstructor,
} from './realtime-types.js';
import { sessionInfo, unusable, type SessionManager } from './session.js';

/** The global scope's events, in a browser or a worker (Node.js has none). */
function globalEvents(): Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | undefined {
  const scope = globalThis as Partial<EventTarget>;
  return typeof scope.addEventListener === 'function' && typeof scope.removeEventListener === 'function'
    ? (scope as EventTarget)
    : undefined;
}

/**
 * The client's realtime connection: authenticates in band, follows the session's tokens with
 * in-band refreshes, reconnects after drops with full-jitter exponential backoff, and stops on
 * the close codes that forbid a reconnect, telling the app why.
 */
export class RealtimeConnection {
  private readonly emitter = new Emitter<RealtimeEvents>();
  private readonly WebSocket: WebSocketConstructor | undefined;
  private socket: FrameSocket | undefined;
  private current: RealtimeState = 'closed';
  private wanted = false;
  private dialing = false;
  private syncing = false;
  private attempt = 0;
  /** An access token the server refused (expired, or no longer valid): the next dial refreshes first. */
  private refusedToken: string | undefined;
  /** The server refused a freshly refreshed token too: the session cannot continue. */
  private refreshedForRefusal = false;
  private bound: Credentials | undefined;
  private presence: { userIds?: string[] } | undefined;
  private cancelRetry: Cancel | undefined;
  private cancelPing: Cancel | undefined;
  private releaseFresh: (() => void) | undefined;
  private waiters: { resolve(): void; reject(error: unknown): void }[] = [];
  private readonly stopListening: Unsubscribe[];
  /** A browser that comes back online reconnects at once instead of waiting out the backoff. */
  private readonly online = (): void => {
    if (this.current === 'reconnecting') void this.dial();
  };

  constructor(
    private readonly session: SessionManager,
    private readonly url: string,
    private readonly clock: Clock,
    private readonly options: RealtimeOptions,
  ) {
    this.WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.stopListening = [
      session.events.on('credentials', (next) => this.credentialsChanged(next)),
      session.events.on('sessionEnded', (event) => this.sessionEnded(event)),
    ];
    globalEvents()?.addEventListener('online', this.online);
  }

  /**
   * The connection's state: `closed`, `connecting`, `open`, `reconnecting` or `suspended`.
   *
   * @example
   * ```ts
   * if (client.realtime.state !== 'open') showOfflineBanner();
   * ```
   */
  get state(): RealtimeState {
    return this.current;
  }

  /**
   * Listens to `open`, `close`, `state`, `frame`, `expiring` or `presence`; returns the function
   * that stops listening.
   *
   * @example
   * ```ts
   * client.realtime.on('close', ({ reason, willReconnect }) => {
   *   if (!willReconnect) showBanner(`Disconnected: ${reason}`);
   * });
   * ```
   */
  on<K extends keyof RealtimeEvents>(type: K, listener: (event: RealtimeEvents[K]) => void): Unsubscribe {
    return this.emitter.on(type, listener);
  }

  /**
   * Opens the connection (logged in first) and keeps it open until {@link close}, reconnecting
   * after drops. Resolves once authenticated; rejects if it ends for good before that.
   *
   * @example
   * ```ts
   * await client.connect(email, password);
   * await client.realtime.connect();
   * ```
   */
  connect(): Promise<void> {
    if (this.WebSocket === undefined)
      return Promise.reject(
        new TypeError(
          'No WebSocket here: pass one, e.g. createClient({ WebSocket }) with the ws package in Node.js 20',
        ),
      );
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

  /**
   * Closes the connection for good (until the next {@link connect}); the session stays.
   *
   * @example
   * ```ts
   * client.realtime.close();
   * ```
   */
  close(): void {
    this.forget(this.socket);
    this.stop(
      { reason: 'closed', closeCode: 1000, willReconnect: false },
      new NetworkError('network_error', { message: 'The realtime connection was closed by the app.' }),
    );
  }

  /**
   * Sends a frame on the open connection and resolves with the server's answer to it; rejects
   * with a TesseraError when the server answers an `error` frame, or the connection closes.
   *
   * @example
   * ```ts
   * const { serverTime } = await client.realtime.request<PongFrame>({ type: 'ping' });
   * ```
   */
  request<T extends ServerFrame = ServerFrame>(frame: OutgoingFrame): Promise<T> {
    const socket = this.current === 'open' ? this.socket : undefined;
    return socket === undefined
      ? Promise.reject(new NetworkError('network_error', { message: 'The realtime connection is not open.' }))
      : socket.request<T>(frame);
  }

  /**
   * Follows who comes online and goes offline (all users of the app, or these), as `presence`
   * events; the subscription is renewed after every reconnect. Resolves with the current state.
   *
   * @example
   * ```ts
   * client.realtime.on('presence', (frame) => updateRoster(frame));
   * const { users } = await client.realtime.subscribePresence();
   * ```
   */
  subscribePresence(userIds?: string[]): Promise<PresenceStateFrame> {
    this.presence = userIds === undefined ? {} : { userIds };
    return this.request<PresenceStateFrame>({ type: 'presence.subscribe', ...this.presence });
  }

  /**
   * Stops presence events.
   *
   * @example
   * ```ts
   * client.realtime.unsubscribePresence();
   * ```
   */
  unsubscribePresence(): void {
    this.presence = undefined;
    if (this.current === 'open') this.socket?.send({ type: 'presence.unsubscribe' });
  }

  /**
   * Who is online now (all users of the app, or these, at most 100).
   *
   * @example
   * ```ts
   * const { users } = await client.realtime.queryPresence([friendId]);
   * const online = users.length > 0;
   * ```
   */
  queryPresence(userIds?: string[]): Promise<PresenceStateFrame> {
    return this.request<PresenceStateFrame>({ type: 'presence.query', ...(userIds === undefined ? {} : { userIds }) });
  }

  /**
   * Closes and stops listening to the session; the object is unusable after. `client.dispose()` calls it.
   *
   * @example
   * ```ts
   * client.realtime.dispose();
   * ```
   */
  dispose(): void {
    this.close();
    for (const stop of this.stopListening) stop();
    globalEvents()?.removeEventListener('online', this.online);
  }

  private setState(state: RealtimeState): void {
    if (this.current === state) return;
    this.current = state;
    this.emitter.emit('state', state);
  }

  private async dial(): Promise<void> {
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    if (!this.wanted || this.dialing || this.socket !== undefined || this.WebSocket === undefined) return;
    this.dialing = true;
    this.setState('connecting');
    try {
      const credentials = await this.session.fresh();
      // The server refused this very token (a device clock that is wrong, a signing key gone): spend the reconnect token.
      if (credentials.accessToken === this.refusedToken) await this.session.refresh(credentials, true);
      this.refusedToken = undefined;
    } catch (error) {
      this.dialing = false;
      return this.dialFailed(error);
    }
    this.dialing = false;
    if (!this.wanted || this.socket !== undefined) return;
    const socket: FrameSocket = new FrameSocket(
      this.WebSocket,
      this.url,
      this.clock,
      this.options.answerTimeoutMs ?? 10_000,
      {
        open: () => void this.authenticate(socket),
        frame: (frame) => this.receive(socket, frame),
        close: (closeCode, reason) => void this.closed(socket, closeCode, reason),
      },
    );
    this.socket = socket;
  }

  private dialFailed(error: unknown): void {
    // A session that ended on the way has suspended the connection already, and said why.
    if (!this.wanted || this.current === 'suspended') return;
    const code = error instanceof TesseraError ? error.code : undefined;
    // No session (never logged in, or it just ended and said so): wait for a login.
    if (code === 'missing_credentials' || unusable(error))
      return this.suspend(
        { reason: unusable(error) ? reasonOf(error) : 'expired', closeCode: 1000, willReconnect: false },
        error,
      );
    if (error instanceof TesseraError && error.retryable)
      return this.retryLater({ reason: code === 'rate_limited' ? 'rate_limited' : 'network', closeCode: 1006 });
    this.stop(
      {
        reason: 'rejected',
        closeCode: 1000,
        willReconnect: false,
        ...(error instanceof TesseraError && isErrorCode(error.code) ? { code: error.code } : {}),
      },
      error,
    );
  }

  /** In band, under the lock: the authenticate frame rotates the session's tokens, as a login does. */
  private async authenticate(socket: FrameSocket): Promise<void> {
    let credentials: Credentials;
    let connectionId = '';
    try {
      credentials = await this.session.rotate(async (stored) => {
        if (stored === null) throw new AuthenticationError('missing_credentials', { message: 'Logged out meanwhile.' });
        const frame = await socket.request<AuthenticatedFrame>({
          type: 'authenticate',
          strategy: 'access-token',
          accessToken: stored.accessToken,
        });
        const { accessToken, reconnectToken, authentication, session, user } = frame;
        if (
          accessToken === undefined ||
          reconnectToken === undefined ||
          authentication.reconnectTokenExpiresAt === undefined
        ) {
          throw new ServerError('invalid_response', { message: 'The authenticated frame carries no tokens.' });
        }
        connectionId = frame.connectionId;
        return {
          accessToken,
          reconnectToken,
          session,
          user,
          authentication: { ...authentication, reconnectTokenExpiresAt: authentication.reconnectTokenExpiresAt },
        };
      });
    } catch (error) {
      // A close decides by its own code; a refusal that left the socket open is decided here.
      if (socket === this.socket) this.abandon(socket, error);
      return;
    }
    if (socket !== this.socket) return;
    this.bound = credentials;
    this.attempt = 0;
    this.refreshedForRefusal = false;
    this.setState('open');
    this.schedulePing(socket);
    if (this.presence !== undefined)
      socket.request({ type: 'presence.subscribe', ...this.presence }).catch(() => undefined);
    this.emitter.emit('open', { connectionId, user: credentials.user, session: sessionInfo(credentials) });
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
    // Tokens may have moved on while the frame was answered.
    void this.syncTokens(socket);
  }

  private receive(socket: FrameSocket, frame: ServerFrame): void {
    if (socket !== this.socket) return;
    if (frame.type === 'session.expiring') this.expiring(socket, frame);
    else if (frame.type === 'presence.state' || frame.type === 'presence.join' || frame.type === 'presence.leave')
      this.emitter.emit('presence', frame);
    this.emitter.emit('frame', frame);
  }

  private expiring(socket: FrameSocket, frame: SessionExpiringFrame): void {
    this.emitter.emit('expiring', frame);
    const held = this.session.held;
    if (frame.reason === 'idle') socket.send({ type: 'ping' });
    else if (frame.reason === 'access_token' && held !== null) {
      if (held.accessToken !== this.bound?.accessToken) void this.syncTokens(socket);
      else this.session.refresh(held).catch(() => undefined);
    }
  }

  /** New tokens in the session: the same user continues in band; another user needs a new connection. */
  private credentialsChanged(next: Credentials | null): void {
    if (!this.wanted || next === null) return;
    if (this.current === 'suspended') return void this.dial();
    if (this.current === 'open' && this.socket !== undefined) void this.syncTokens(this.socket);
  }

  private async syncTokens(socket: FrameSocket): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      for (;;) {
        const next = this.session.held;
        const bound = this.bound;
        if (
          socket !== this.socket ||
          this.current !== 'open' ||
          next === null ||
          bound === undefined ||
          next.accessToken === bound.accessToken
        )
          return;
        if (next.user.id !== bound.user.id) return this.abandon(socket, undefined);
        await socket.request({ type: 'refresh', accessToken: next.accessToken });
        if (socket === this.socket) this.bound = next;
      }
    } catch (error) {
      if (socket === this.socket) this.abandon(socket, error);
    } finally {
      this.syncing = false;
    }
  }

  /** The session ended (learnt over REST, from another tab, or by logout): close and wait for a login. */
  private sessionEnded(event: SessionEndedEvent): void {
    if (!this.wanted || this.current === 'suspended') return;
    this.forget(this.socket);
    const code = event.error !== undefined && isErrorCode(event.error.code) ? { code: event.error.code } : {};
    this.suspend(
      {
        reason: event.reason,
        closeCode: 1000,
        willReconnect: false,
        ...code,
        ...(event.detail === undefined ? {} : { detail: event.detail }),
      },
      event.error,
    );
  }

  /** Drops a socket the client gave up on, deciding as for a close with the error's close code. */
  private abandon(socket: FrameSocket, error: unknown): void {
    const code = error instanceof TesseraError && isErrorCode(error.code) ? error.code : undefined;
    const closeCode = code === undefined ? 1006 : ERROR_CODES[code].closeCode;
    void this.closed(socket, code === undefined && error === undefined ? 1000 : closeCode, code ?? '');
  }

  private async closed(socket: FrameSocket, closeCode: number, reasonText: string): Promise<void> {
    if (socket !== this.socket) return;
    this.forget(socket);
    // The credentials the socket was bound to, or, while it was authenticating, the ones it tried.
    const bound = this.bound ?? this.session.held ?? undefined;
    this.bound = undefined;
    if (!this.wanted) return;
    const close = describeClose(closeCode, reasonText);
    const event = {
      reason: close.reason,
      closeCode,
      ...(close.code === undefined ? {} : { code: close.code }),
      ...(close.detail === undefined ? {} : { detail: close.detail }),
    };
    if ((close.code === 'token_expired' || close.code === 'invalid_token') && !this.refreshedForRefusal) {
      this.refusedToken = bound?.accessToken;
      this.refreshedForRefusal = close.code === 'invalid_token';
      return this.retryLater({ ...event, reason: 'token_expired' });
    }
    if (close.reconnect) return this.retryLater(event);
    const error =
      close.code === undefined
        ? undefined
        : errorOfCode(close.code, close.detail === undefined ? {} : { details: { reason: close.detail } });
    if (close.code === 'missing_credentials') return this.suspend({ ...event, willReconnect: false }, error);
    if (error === undefined || !unusable(error) || bound === undefined)
      return this.stop({ ...event, willReconnect: false }, error);
    // An upgrade (or a login) may have moved the session on while its old one was revoked.
    await this.session.settled();
    const held = this.session.held;
    if (held !== null && held.session.id !== bound.session.id) return void this.dial();
    this.suspend({ ...event, willReconnect: false }, error);
    await this.session.end(bound, reasonOf(error), error, close.detail);
    if (event.reason !== 'logged_out' && (await this.session.recover(error, bound))) void this.dial();
  }

  private retryLater(event: Omit<RealtimeCloseEvent, 'willReconnect'>): void {
    const {
      maxAttempts = Number.POSITIVE_INFINITY,
      initialDelayMs = 500,
      maxDelayMs = 30_000,
      random = Math.random,
    } = this.options;
    if (this.attempt >= maxAttempts)
      return this.stop(
        { ...event, willReconnect: false },
        new NetworkError('network_error', { message: 'Gave up reconnecting.' }),
      );
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
    for (const waiter of this.waiters.splice(0))
      waiter.reject(
        error ?? new NetworkError('network_error', { message: `The realtime connection closed (${event.closeCode}).` }),
      );
  }

  private schedulePing(socket: FrameSocket): void {
    const interval = this.options.pingIntervalMs ?? 25_000;
    if (interval <= 0) return;
    this.cancelPing = this.clock.at(this.clock.now() + interval, () => {
      if (socket !== this.socket) return;
      // Nothing heard for two intervals, not even a pong: the connection is dead.
      if (this.clock.now() - socket.lastHeard > 2 * interval) return this.abandon(socket, new NetworkError('timeout'));
      socket.send({ type: 'ping' });
      this.schedulePing(socket);
    });
  }

  /** Drops the current socket: no more events from it, its pending requests fail. */
  private forget(socket: FrameSocket | undefined): void {
    if (socket === undefined || socket !== this.socket) return;
    this.socket = undefined;
    this.cancelPing?.();
    socket.drop();
  }
}
