import { randomUUID } from 'node:crypto';
import type {
  AuthenticateFrame,
  ClientFrame,
  ErrorCode,
  FrameId,
  PresenceQueryFrame,
  PresenceSubscribeFrame,
  PresenceUnsubscribeFrame,
  RefreshFrame,
  ServerFrame,
} from '@tessera/protocol';
import type { Logger } from 'pino';
import WebSocket, { type RawData } from 'ws';
import { TOUCH_INTERVAL_MS } from '../auth/sessions/session-service.js';
import type { Config } from '../config/index.js';
import { TesseraError } from '../errors.js';
import { toIso, type Clock } from '../lib/clock.js';
import type { Cancel, Scheduler } from '../lib/scheduler.js';
import type { AppRecord, UserRecord } from '../store/repositories/index.js';
import { asTesseraError, causeOf, closeFrameOf, type CloseCause } from './close-codes.js';
import { ExpiryTimeline, type SessionTimes } from './expiry.js';
import { errorFrame, parseClientFrame, withId } from './frames.js';
import {
  bindPresentedToken,
  discardNewSession,
  loginByFrame,
  refreshBinding,
  resumedUserOf,
  type Binding,
  type BindResult,
  type GatewayServices,
} from './in-band-auth.js';
import { exceedsUserConnections, FrameRateLimiter, isSlowConsumer, MAX_PRESENCE_ENTRIES } from './limits.js';
import type { PendingSlot } from './pending-per-address.js';
import type { Presence, PresenceMember, PresenceSubscriber } from './presence.js';
import { authenticatedFrame, refreshedFrame } from './outgoing-frames.js';
import type { ConnectionRegistry } from './registry.js';
import type { UpgradeTarget } from './upgrade.js';

/** A connection in presence, with the records the gateway needs when its user goes offline. */
export interface ConnectionMember extends PresenceMember {
  readonly app: AppRecord;
}

/** What every connection shares: the gateway's services, settings and state. */
export interface ConnectionContext {
  services: GatewayServices;
  config: Readonly<Config['realtime']>;
  clock: Clock;
  scheduler: Scheduler;
  presence: Presence<ConnectionMember>;
  registry: ConnectionRegistry<Connection>;
  logger: Logger;
  /** Work that outlives the frame that started it; the gateway waits for it on shutdown. */
  track(task: Promise<void>): void;
}

/** awaiting → (authenticating →) open → closed. */
type State = 'awaiting' | 'authenticating' | 'open' | 'closed';

/**
 * One WebSocket connection: it waits for authentication (a frame, or a token given at the
 * upgrade) for a bounded time, then serves frames for the session it is bound to until that
 * session, its access token or the connection ends. Every server-initiated close carries a
 * close code of the error registry.
 */
export class Connection implements PresenceSubscriber {
  readonly id = randomUUID();
  /** Cleared by each heartbeat ping; set again by the pong or any frame. */
  private alive = true;
  private state: State = 'awaiting';
  private binding: Binding | undefined;
  private member: ConnectionMember | undefined;
  private readonly limiter: FrameRateLimiter;
  private readonly expiry: ExpiryTimeline;
  private cancelAuthTimeout: Cancel | undefined;
  private refreshing = false;
  private touching = false;
  private subscribed = false;
  private overflowing = false;

  constructor(
    private readonly ws: WebSocket,
    private app: AppRecord,
    private readonly target: UpgradeTarget,
    /** The connection's place among its address's unauthenticated sockets, until it authenticates or closes. */
    private readonly pending: PendingSlot,
    private readonly context: ConnectionContext,
  ) {
    this.limiter = new FrameRateLimiter(context.config.framesPerSecond, context.config.frameBurst, context.clock.now());
    this.expiry = new ExpiryTimeline(context.clock, context.scheduler, context.config.expiryNoticeMs, {
      notice: (reason, expiresAt) => this.send({ type: 'session.expiring', reason, expiresAt: toIso(expiresAt) }),
      accessExpired: (withSession) => this.close({ code: withSession ? 'session_expired' : 'token_expired' }),
      reloadSession: () => this.tracked(this.reloadSession()),
    });
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('close', () => this.release());
    ws.on('error', (error) =>
      context.logger.debug({ err: error, connection: this.id, reqId: this.target.requestId }, 'realtime socket error'),
    );
  }

  /** Starts the authentication deadline, or authenticates at once with the upgrade's token. */
  start(): void {
    this.context.registry.add(this);
    const token = this.target.accessToken;
    if (token !== undefined)
      return void this.authenticate(undefined, async () => ({
        binding: await bindPresentedToken(this.context.services, this.app, token, this.target.client),
      }));
    this.cancelAuthTimeout = this.context.scheduler.at(
      this.context.clock.now() + this.context.config.authTimeoutMs,
      () => {
        if (this.state === 'awaiting') this.close({ code: 'authentication_timeout' });
      },
    );
  }

  /** Whether the connection is bound to a session of `appId` created before `before` (the app's kill switch). */
  startedBefore(appId: string, before: number): boolean {
    return this.app.id === appId && this.binding !== undefined && this.binding.session.createdAt < before;
  }

  /** Closes with a close code of the registry; no-op once closed. */
  close(cause: CloseCause): void {
    if (this.isClosed()) return;
    const { closeCode, reason } = closeFrameOf(cause);
    this.context.logger.debug(
      { connection: this.id, reqId: this.target.requestId, code: cause.code, detail: cause.detail },
      'realtime connection closed by the server',
    );
    this.release();
    this.ws.close(closeCode, reason);
  }

  /** Closes for shutdown; resolves once the socket is closed. */
  shutdown(): Promise<void> {
    const closed = new Promise<void>((resolve) =>
      this.ws.readyState === WebSocket.CLOSED ? resolve() : this.ws.once('close', () => resolve()),
    );
    this.close({ code: 'server_shutdown' });
    return closed;
  }

  terminate(): void {
    this.release();
    this.ws.terminate();
  }

  /** One heartbeat: a peer that did not answer the previous ping is dropped. */
  heartbeat(): void {
    if (!this.alive) return this.terminate();
    this.alive = false;
    this.ws.ping();
  }

  /**
   * Reads the session from the store again, for when revocations may have been missed (the
   * cluster link was down); closes the connection when the session is over.
   */
  async recheck(): Promise<void> {
    const session = await this.tracked(this.reloadSession());
    if (session !== undefined && !this.isClosed()) this.expiry.setSession(session);
  }

  /** Presence events arrive serialised already. */
  deliver(json: string): void {
    this.sendRaw(json);
  }

  /** Cancels the deadline and lets go of its timer: an idle connection keeps no dead timers. */
  private stopAuthTimeout(): void {
    this.cancelAuthTimeout?.();
    this.cancelAuthTimeout = undefined;
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private receive(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.isClosed()) return;
    if (!this.limiter.take(this.context.clock.now())) return this.close({ code: 'rate_limited' });
    const parsed = parseClientFrame(data, isBinary);
    if (!parsed.ok) return this.send(errorFrame(parsed.error, parsed.id));
    this.dispatch(parsed.frame);
  }

  private dispatch(frame: ClientFrame): void {
    if (this.state === 'open') this.noteActivity();
    if (frame.type === 'ping')
      return this.send(withId({ type: 'pong', serverTime: toIso(this.context.clock.now()) }, frame.id));
    if (this.state === 'awaiting') {
      if (frame.type === 'authenticate') void this.authenticate(frame.id, () => this.login(frame));
      else this.refuse(frame.id, 'missing_credentials', 'Authenticate first: send an authenticate frame.');
      return;
    }
    if (this.state === 'authenticating')
      return this.refuse(
        frame.id,
        'invalid_request',
        'Authentication is in progress; wait for the authenticated frame.',
      );
    switch (frame.type) {
      case 'authenticate':
        return this.refuse(
          frame.id,
          'invalid_request',
          'Already authenticated; send refresh to renew the credentials.',
        );
      case 'refresh':
        return void this.refresh(frame);
      case 'presence.subscribe':
      case 'presence.unsubscribe':
      case 'presence.query':
        return this.presenceRequest(frame);
    }
  }

  private async login(frame: AuthenticateFrame): Promise<BindResult> {
    const { services, presence } = this.context;
    // Refuse a connection over the user's limit before a reconnect token is rotated away.
    const resumed = await resumedUserOf(services, this.app, frame, this.target.client);
    if (resumed !== undefined && exceedsUserConnections(this.app, presence.connectionsOf(this.app.id, resumed)))
      throw new TesseraError('too_many_connections');
    return loginByFrame(services, this.app, frame, this.target.apiKey, this.target.client);
  }

  private async authenticate(id: FrameId | undefined, prove: () => Promise<BindResult>): Promise<void> {
    this.state = 'authenticating';
    this.stopAuthTimeout();
    let result: BindResult;
    try {
      result = await prove();
    } catch (error) {
      return this.fail(error);
    }
    if (this.isClosed()) return;
    if (exceedsUserConnections(this.app, this.context.presence.connectionsOf(this.app.id, result.binding.user.id))) {
      this.context.track(discardNewSession(this.context.services.sessions, result));
      return this.close({ code: 'too_many_connections' });
    }
    this.pending.release();
    this.bind(result.binding);
    this.send(authenticatedFrame(this.id, result, id));
  }

  private async refresh(frame: RefreshFrame): Promise<void> {
    if (this.refreshing) return this.refuse(frame.id, 'invalid_request', 'A refresh is already in progress.');
    this.refreshing = true;
    try {
      const result = await refreshBinding(this.context.services, this.app, this.binding!, frame, this.target.client);
      if (this.isClosed()) return;
      this.bind(result.binding);
      this.send(refreshedFrame(result, frame.id));
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'identity_mismatch') return this.close(causeOf(error));
      this.answerError(error, frame.id);
    } finally {
      this.refreshing = false;
    }
  }

  /** Binds the connection to a session (again, after a refresh) and sets its deadlines. */
  private bind(binding: Binding): void {
    const { registry, presence } = this.context;
    const previous = this.member;
    this.binding = binding;
    this.state = 'open';
    if (previous?.sessionId !== binding.session.id) {
      this.member = memberOf(this.app, binding.user, binding.session.id);
      registry.bind(this, binding.session.id);
      // Join the new session before leaving the old one: the user never looks offline.
      presence.join(this.member);
      if (previous !== undefined) {
        registry.unbind(this, previous.sessionId);
        presence.leave(previous);
      }
    }
    this.expiry.bind(binding.accessExpiresAt, binding.session);
  }

  /**
   * Activity slides the session's idle expiry. SessionService.authenticate decides whether it
   * is time to write (at most once a minute, as for REST); the connection only avoids asking
   * when its own view says it is not.
   */
  private noteActivity(): void {
    const binding = this.binding;
    if (
      binding === undefined ||
      this.touching ||
      this.context.clock.now() - binding.session.lastSeenAt < TOUCH_INTERVAL_MS
    )
      return;
    this.touching = true;
    void this.tracked(this.touch(binding)).finally(() => (this.touching = false));
  }

  private async touch(binding: Binding): Promise<void> {
    try {
      this.app = await this.context.services.apps.getApp(this.app.namespace, this.app.name);
      const context = await this.context.services.sessions.authenticate(this.app, binding.accessToken);
      if (this.isClosed() || this.binding !== binding) return;
      binding.session = context.session;
      binding.user = context.user;
      this.expiry.setSession(context.session);
    } catch (error) {
      this.fail(error);
    }
  }

  /** A session deadline came: the session as the store has it now, or undefined when it is over. */
  private async reloadSession(): Promise<SessionTimes | undefined> {
    const binding = this.binding;
    if (binding === undefined || this.isClosed()) return undefined;
    try {
      this.app = await this.context.services.apps.getApp(this.app.namespace, this.app.name);
      const { session, user } = await this.context.services.sessions.reread(this.app, binding.session.id);
      if (this.isClosed()) return undefined;
      if (this.binding !== binding) return this.binding?.session;
      binding.session = session;
      binding.user = user;
      return session;
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  private presenceRequest(frame: PresenceSubscribeFrame | PresenceUnsubscribeFrame | PresenceQueryFrame): void {
    const { presence } = this.context;
    if (!this.app.settings.realtime.presence)
      return this.refuse(frame.id, 'forbidden', 'Presence is turned off for this app.');
    if (frame.type === 'presence.unsubscribe') {
      presence.unsubscribe(this.app.id, this);
      this.subscribed = false;
      return;
    }
    if (frame.type === 'presence.subscribe') {
      presence.subscribe(this.app.id, this, frame.userIds);
      this.subscribed = true;
    }
    const { users, truncated } = presence.snapshot(this.app.id, frame.userIds, MAX_PRESENCE_ENTRIES);
    this.send(withId({ type: 'presence.state', users, truncated }, frame.id));
  }

  /** Store work a frame or a deadline started; the gateway's `settled()` waits for it. */
  private tracked<T>(task: Promise<T>): Promise<T> {
    this.context.track(task.then(() => undefined));
    return task;
  }

  private refuse(id: FrameId | undefined, code: ErrorCode, message: string): void {
    this.send(errorFrame(new TesseraError(code, { message }), id));
  }

  private answerError(error: unknown, id: FrameId | undefined): void {
    const answer = asTesseraError(error);
    if (answer.code === 'internal_error')
      this.context.logger.error(
        { err: error, connection: this.id, reqId: this.target.requestId },
        'realtime frame failed',
      );
    this.send(errorFrame(answer, id));
  }

  /** An error that ends the connection: its code is the close code. */
  private fail(error: unknown): void {
    const cause = causeOf(error);
    if (cause.code === 'internal_error')
      this.context.logger.error(
        { err: error, connection: this.id, reqId: this.target.requestId },
        'realtime connection failed',
      );
    this.close(cause);
  }

  private send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private sendRaw(json: string): void {
    if (this.overflowing || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(json);
    if (isSlowConsumer(this.ws.bufferedAmount, this.context.config.maxBufferedBytes)) {
      this.overflowing = true;
      // Closed after the current fan-out, not in the middle of it.
      queueMicrotask(() => this.close({ code: 'slow_consumer' }));
    }
  }

  /** Forgets the connection everywhere; runs once, whoever closed. */
  private release(): void {
    if (this.isClosed()) return;
    this.state = 'closed';
    this.pending.release();
    this.stopAuthTimeout();
    this.expiry.stop();
    const { registry, presence } = this.context;
    registry.delete(this);
    if (this.subscribed) presence.unsubscribe(this.app.id, this);
    if (this.member !== undefined) {
      registry.unbind(this, this.member.sessionId);
      presence.leave(this.member);
    }
  }
}

function memberOf(app: AppRecord, user: UserRecord, sessionId: string): ConnectionMember {
  return {
    app,
    appId: app.id,
    userId: user.id,
    sessionId,
    kind: user.kind,
    displayName: user.fullName ?? user.username ?? null,
  };
}
