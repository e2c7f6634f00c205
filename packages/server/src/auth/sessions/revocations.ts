import type { Logger } from 'pino';
import { openChannel, type Channel, type ClusterBus } from '../../cluster/index.js';
import { settledWithin } from '../../lib/deadline.js';
import type { UserRecord } from '../../store/repositories/index.js';
import type { SessionCache } from './session-cache.js';

export type RevocationReason =
  | 'logout'
  | 'revoked'
  | 'password_changed'
  | 'user_disabled'
  | 'user_deleted'
  | 'reconnect_token_reused'
  | 'user_upgraded'
  | 'user_ended'
  | 'revoked_before';

export interface RevocationEvent {
  appId: string;
  userId: string;
  sessionIds: string[];
  reason: RevocationReason;
}

/** A listener that returns a promise is awaited before the revoking call returns. */
export type RevocationListener = (event: RevocationEvent) => void | Promise<void>;

/** The bus channel of session events between nodes. */
export const SESSION_CHANNEL = 'sessions';

/** What one node tells the others about sessions: they drop their cached views and close sockets. */
export type SessionMessage = { type: 'revoked'; event: RevocationEvent } | { type: 'user_changed'; userId: string };

/**
 * Ended sessions and changed users, told to this node's cache, to every node of the cluster and
 * to the listeners: the realtime gateway closes the sockets of ended sessions, the anonymous
 * lifecycle ends anonymous users whose sessions all ended.
 */
export class RevocationFeed {
  private readonly listeners = new Set<RevocationListener>();
  private readonly clusterListeners = new Set<(event: RevocationEvent) => void>();
  private readonly channel: Channel<SessionMessage>;

  constructor(
    bus: ClusterBus,
    private readonly cache: SessionCache,
    logger: Logger,
  ) {
    this.channel = openChannel<SessionMessage>(bus, SESSION_CHANNEL, {
      logger,
      onMessage: (message) => {
        if (message.type === 'revoked') this.forgetAndClose(message.event);
        else this.cache.invalidateUser(message.userId);
      },
      // Messages sent while the link was down are lost: nothing cached before or during the gap can be trusted.
      onLinkChange: () => this.cache.clear(),
    });
  }

  /** Whether this node hears every other node's changes now: only then may it trust its cached views. */
  get hearsEveryChange(): boolean {
    return this.channel.connected;
  }

  /**
   * Called once per revocation, on the node that made it, and awaited (ending anonymous users
   * happens there, once for the cluster).
   */
  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called on every node for every revocation in the cluster, this node's at once and the
   * others' as they arrive: the realtime gateway closes the sockets it holds for them.
   */
  onRevokedInCluster(listener: (event: RevocationEvent) => void): () => void {
    this.clusterListeners.add(listener);
    return () => this.clusterListeners.delete(listener);
  }

  /**
   * Tells everyone of sessions a committed write ended. Every listener hears it (closing sockets
   * must not depend on ending anonymous users going well); a failure still reaches the caller,
   * once all of them have run.
   */
  async announce(user: UserRecord, sessionIds: string[], reason: RevocationReason): Promise<void> {
    const event: RevocationEvent = { appId: user.appId, userId: user.id, sessionIds, reason };
    this.forgetAndClose(event);
    const told = this.tellOtherNodes({ type: 'revoked', event });
    const results = await Promise.allSettled([...this.listeners].map(async (listener) => listener(event)));
    await told;
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /**
   * Forget cached views of a user after its record changed (profile, disabled flag), on every
   * node; resolves once the other nodes were told (see `tellOtherNodes`).
   */
  async userChanged(userId: string): Promise<void> {
    this.cache.invalidateUser(userId);
    await this.tellOtherNodes({ type: 'user_changed', userId });
  }

  /** A revocation made by any node: this node forgets the sessions and closes what it holds of them. */
  private forgetAndClose(event: RevocationEvent): void {
    for (const sessionId of event.sessionIds) this.cache.invalidateSession(sessionId);
    for (const listener of this.clusterListeners) listener(event);
  }

  /**
   * Resolves once the broker took the message, so that the caller answers only then (Redis hands
   * it to every subscriber as it answers the PUBLISH), or after the cache's lifetime, past which
   * any view it would correct has expired anyway. Never rejects: the store holds the change, and
   * a node that missed the message trusts its cached view for that lifetime at most.
   */
  private async tellOtherNodes(message: SessionMessage): Promise<void> {
    const published = this.channel.publish(message);
    // No cache, no stale view to outrun; a link that is down cannot be counted on to carry it.
    if (this.cache.ttlMs > 0 && this.channel.connected) await settledWithin(published, this.cache.ttlMs);
  }
}
