import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CODES } from '@tessera/protocol';
import type { Logger } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import type { CutoffEvent } from '../auth/sessions/kill-switch.js';
import type { RevocationEvent } from '../auth/sessions/revocations.js';
import type { Config } from '../config/index.js';
import type { ProxyTrust } from '../config/proxy-trust.js';
import { TesseraError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { clientAddressOf } from '../lib/client-address.js';
import { every, type Cancel, type Scheduler, type Timeline } from '../lib/scheduler.js';
import type { AppRecord } from '../store/repositories/index.js';
import { asTesseraError, revocationCause } from './close-codes.js';
import { Connection, type ConnectionContext, type ConnectionMember } from './connection.js';
import type { GatewayServices } from './in-band-auth.js';
import { PendingPerAddress, type PendingSlot } from './pending-per-address.js';
import { Presence } from './presence.js';
import { PresenceSync } from './presence-sync.js';
import { ConnectionRegistry } from './registry.js';
import { requestIdOf } from '../lib/request-id.js';
import { assertOriginAllowed, chooseSubprotocol, parseUpgrade, refuseUpgrade, type UpgradeTarget } from './upgrade.js';

export interface GatewayOptions {
  services: GatewayServices;
  config: Readonly<Config['realtime']>;
  /** Whose X-Forwarded-For to believe, as on REST (see config/proxy-trust.ts). */
  trustProxy: ProxyTrust;
  clock: Clock;
  scheduler: Scheduler;
  /** Real elapsed time, for the heartbeats of sockets and of the other nodes (see lib/scheduler.ts). */
  realTime: Timeline;
  logger: Logger;
}

/** Sessions read at once when the gateway checks every connection again. */
const RECHECK_CONCURRENCY = 8;

/** RFC 6455's "message too big", which ws sends itself when a frame passes `maxPayload`. */
const MESSAGE_TOO_BIG = 1009;

/** ws closes a connection whose frame is too large by itself; Tessera's registry has a code of its own for that. */
class GatewaySocket extends WebSocket {
  override close(code?: number, data?: string | Buffer): void {
    if (code === MESSAGE_TOO_BIG) return super.close(ERROR_CODES.frame_too_large.closeCode, 'frame_too_large');
    super.close(code, data);
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * The realtime endpoint `/v1/apps/{namespace}/{app}/realtime`, on the HTTP server's `upgrade`
 * event. It accepts WebSockets for known apps, keeps every connection of this node, closes the
 * sockets of revoked sessions as the revocation happens, drops dead peers, and closes every
 * socket with server_shutdown when the server stops.
 */
export class RealtimeGateway {
  private readonly wss: WebSocketServer;
  private readonly registry = new ConnectionRegistry<Connection>();
  private readonly pendingPerAddress: PendingPerAddress;
  private readonly presence: Presence<ConnectionMember>;
  /** Only with a shared bus: a single node has no other node's part to follow, and nobody to tell of its own. */
  private readonly presenceSync: PresenceSync | undefined;
  private readonly context: ConnectionContext;
  private readonly pending = new Set<Promise<void>>();
  private readonly stopRevocations: () => void;
  private readonly stopCutoffs: () => void;
  private readonly stopLinkWatch: () => void;
  private stopHeartbeat: Cancel | undefined;
  /** Runs while the cluster link is down: revocations made elsewhere cannot reach this node then. */
  private linkDownRecheck: NodeJS.Timeout | undefined;
  private rechecking: Promise<void> | undefined;
  private upgrading = 0;
  /** Set first thing on shutdown (before `closing` is assigned, which waits on the shutdown's first await). */
  private stopping = false;
  private closing: Promise<void> | undefined;
  private readonly clientAddress: (request: IncomingMessage) => string | null;
  /**
   * Users whose last connection here closed while the view was incomplete (see `userOffline`).
   * Not a cache: bounded by real authenticated connections, and emptied once the view is complete.
   */
  private readonly offlineWhileIncomplete = new Map<string, ConnectionMember>();

  constructor(private readonly options: GatewayOptions) {
    const { config } = options;
    this.clientAddress = clientAddressOf(options.trustProxy);
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: config.maxFrameBytes,
      perMessageDeflate: false,
      handleProtocols: chooseSubprotocol,
      WebSocket: GatewaySocket,
    });
    this.pendingPerAddress = new PendingPerAddress(config.maxPendingPerIp);
    const { cluster } = options.services;
    this.presence = new Presence<ConnectionMember>(cluster.bus.nodeId, {
      userOffline: (member) => this.userOffline(member),
      localChange: (part) => this.presenceSync?.localChanged(part),
    });
    this.presenceSync = cluster.shared
      ? new PresenceSync({
          bus: cluster.bus,
          presence: this.presence,
          heartbeatMs: config.presenceHeartbeatMs,
          missedBeats: config.presenceMissedBeats,
          time: options.realTime,
          logger: options.logger,
          onViewComplete: () => this.viewCompleted(),
        })
      : undefined;
    this.context = { ...options, presence: this.presence, registry: this.registry, track: (task) => this.track(task) };
    this.stopRevocations = options.services.revocations.onRevokedInCluster((event) => this.revoked(event));
    this.stopCutoffs = options.services.killSwitch.onCutoffInCluster((cutoff) => this.cutOff(cutoff));
    this.stopLinkWatch = options.services.cluster.bus.onLinkChange((up) => this.linkChanged(up));
  }

  /** Serves upgrades of `server` and starts the heartbeat. */
  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', destroyOnError);
      void this.upgrade(request, socket, head);
    });
    this.stopHeartbeat = every(this.options.realTime, this.options.config.heartbeatIntervalMs, () => this.beat());
  }

  /** Open connections on this node. */
  get connections(): number {
    return this.registry.size;
  }

  /**
   * How many realtime connections each of a user's sessions holds in the whole cluster, as this
   * node's presence view has it (other nodes' parts arrive over the bus; see PresenceSync).
   */
  connectionsBySession(appId: string, userId: string): ReadonlyMap<string, number> {
    return new Map(this.presence.sessionsOf(appId, userId).map((session) => [session.sessionId, session.connections]));
  }

  /** Sockets on this node that have not authenticated yet, upgrades under way included. */
  get unauthenticated(): number {
    return this.pendingPerAddress.size;
  }

  /** Resolves once the background work started so far (ending anonymous users) is done. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Closes every socket with server_shutdown, waits for them a bounded time, then drops the rest. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let slot: PendingSlot | undefined;
    const requestId = requestIdOf(request.headers);
    try {
      const target = parseUpgrade(request, this.clientAddress, requestId);
      if (this.stopping) throw new TesseraError('server_shutdown');
      if (this.registry.size + this.upgrading >= this.options.config.maxConnections)
        throw new TesseraError('overloaded', { retryAfterSeconds: 5 });
      slot = this.claimPendingSlot(target.client.ip);
      // ws refuses a malformed handshake by itself, without calling back: the slot comes back when the socket ends.
      socket.once('close', slot.release);
      await this.handshake(request, socket, head, target, slot);
    } catch (error) {
      slot?.release();
      const refusal = asTesseraError(error);
      if (refusal.code === 'internal_error')
        this.options.logger.error({ reqId: requestId, err: error }, 'realtime upgrade failed');
      // As REST logs its refusals: an operator finds the client's request by the id it sent.
      else
        this.options.logger.info(
          { reqId: requestId, code: refusal.code, status: refusal.status },
          'realtime upgrade refused',
        );
      refuseUpgrade(socket, refusal, requestId);
    }
  }

  /** Counts the upgrade among its address's unauthenticated sockets, or refuses it when they are at the limit. */
  private claimPendingSlot(ip: string | null): PendingSlot {
    const slot = this.pendingPerAddress.claim(ip);
    if (slot !== undefined) return slot;
    const { maxPendingPerIp, authTimeoutMs } = this.options.config;
    throw new TesseraError('rate_limited', {
      message: `This address already has ${maxPendingPerIp} realtime connections that have not authenticated; authenticate or close one before opening another.`,
      // By then every socket pending now has authenticated or timed out.
      retryAfterSeconds: Math.max(1, Math.ceil(authTimeoutMs / 1000)),
    });
  }

  private async handshake(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: UpgradeTarget,
    slot: PendingSlot,
  ): Promise<void> {
    this.upgrading += 1;
    let app: AppRecord;
    try {
      app = await this.options.services.apps.getApp(target.namespace, target.app);
    } finally {
      this.upgrading -= 1;
    }
    assertOriginAllowed(request, app);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      socket.off('error', destroyOnError);
      this.accept(ws, app, target, slot);
    });
  }

  private accept(ws: WebSocket, app: AppRecord, target: UpgradeTarget, slot: PendingSlot): void {
    if (this.stopping) {
      slot.release();
      ws.close(ERROR_CODES.server_shutdown.closeCode, 'server_shutdown');
      return;
    }
    new Connection(ws, app, target, slot, this.context).start();
  }

  /** A revocation closes its sessions' sockets now, with the code a REST call would answer. */
  private revoked(event: RevocationEvent): void {
    const cause = revocationCause(event.reason);
    for (const sessionId of event.sessionIds)
      for (const connection of this.registry.inSession(sessionId)) connection.close(cause);
  }

  /** The app's kill switch: a scan of this node's connections, which is rare enough to afford. */
  private cutOff({ appId, before }: CutoffEvent): void {
    const cause = revocationCause('revoked_before');
    for (const connection of this.registry.all()) if (connection.startedBefore(appId, before)) connection.close(cause);
  }

  /**
   * Revocations made on other nodes while the link was down never arrive: every session this
   * node holds is read from the store again when the link drops, as long as it stays down, and
   * when it comes back.
   */
  private linkChanged(up: boolean): void {
    if (this.stopping) return;
    clearInterval(this.linkDownRecheck);
    this.linkDownRecheck = undefined;
    if (!up) {
      this.linkDownRecheck = setInterval(() => this.recheckAll(), this.options.config.linkDownRecheckMs);
      this.linkDownRecheck.unref();
    }
    this.recheckAll();
  }

  /** Re-reads every bound connection's session, a few at a time; one pass at once. */
  private recheckAll(): void {
    if (this.rechecking !== undefined) return;
    const connections = this.registry.all();
    const next = async (): Promise<void> => {
      for (let connection = connections.pop(); connection !== undefined; connection = connections.pop())
        await connection.recheck();
    };
    this.rechecking = Promise.all(Array.from({ length: RECHECK_CONCURRENCY }, next)).then(
      () => (this.rechecking = undefined),
    );
    this.track(this.rechecking);
  }

  /**
   * A user's last connection in the cluster closed: the anonymous users' policy decides what
   * follows (not when the server stops: the user may reconnect elsewhere). While this node may
   * not see every node's connections (its link is down or came back moments ago) the news waits
   * until the view is complete, and goes only for users still offline everywhere then.
   */
  private userOffline(member: ConnectionMember): void {
    if (this.stopping) return;
    if (this.presenceSync?.viewComplete === false)
      this.offlineWhileIncomplete.set(`${member.app.id}/${member.userId}`, member);
    else this.lastConnectionClosed(member);
  }

  /** The users who went offline while the view was incomplete, now that it is complete: those still offline. */
  private viewCompleted(): void {
    const members = [...this.offlineWhileIncomplete.values()];
    this.offlineWhileIncomplete.clear();
    for (const member of members)
      if (!this.stopping && !this.presence.isOnline(member.app.id, member.userId)) this.lastConnectionClosed(member);
  }

  private lastConnectionClosed({ app, userId, kind }: ConnectionMember): void {
    this.track(this.options.services.anonymousUsers.lastConnectionClosed(app, { id: userId, kind }));
  }

  private track(task: Promise<void>): void {
    const tracked = task.catch((error: unknown) =>
      this.options.logger.error({ err: error }, 'realtime background task failed'),
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private beat(): void {
    for (const connection of this.registry.all()) connection.heartbeat();
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    // The other nodes drop this node's users at once, instead of at its heartbeat deadline.
    if (this.presenceSync !== undefined) this.track(this.presenceSync.leave());
    this.stopHeartbeat?.();
    this.stopRevocations();
    this.stopCutoffs();
    this.stopLinkWatch();
    clearInterval(this.linkDownRecheck);
    // Every socket is closing: nobody is left to hear presence events, and n² of them would be sent.
    this.presence.silence();
    const connections = this.registry.all();
    const closed = Promise.all(connections.map((connection) => connection.shutdown()));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.config.shutdownGraceMs)));
    await Promise.race([closed, grace]);
    clearTimeout(timer);
    for (const connection of connections) connection.terminate();
    await this.settled();
    this.wss.close();
  }
}
