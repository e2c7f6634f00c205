import type { Logger } from 'pino';
import type { AppService } from '../../apps/app-service.js';
import { openChannel, type Channel, type ClusterBus } from '../../cluster/index.js';
import { TesseraError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import type { AppRecord } from '../../store/repositories/index.js';
import type { SessionService } from './session-service.js';

/** The app's kill switch was used: every session of `appId` created before `before` is over. */
export interface CutoffEvent {
  appId: string;
  before: number;
}

export interface CutoffResult {
  /** The cut-off in force: the one asked for, or a later one used before. */
  before: number;
  /** Live sessions this call ended. */
  revoked: number;
}

/** The bus channel of kill switches between nodes: one message per use, for a whole app. */
export const CUTOFF_CHANNEL = 'session-cutoffs';

type CutoffMessage = { cutoff: CutoffEvent };

/**
 * The app-wide kill switch after a breach: every session of the app started before a moment
 * ends, on every node, and can never come back. The moment is kept on the app first, so that a
 * session whose login was being written while the sweep ran is refused as well (every session
 * check compares its start with it); then the sweep ends the live sessions in the store, and
 * every node forgets its cached sessions and closes the sockets of those sessions.
 */
export class SessionKillSwitch {
  private readonly listeners = new Set<(cutoff: CutoffEvent) => void>();
  private readonly channel: Channel<CutoffMessage>;

  constructor(
    private readonly apps: AppService,
    private readonly sessions: SessionService,
    bus: ClusterBus,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    this.channel = openChannel<CutoffMessage>(bus, CUTOFF_CHANNEL, {
      logger,
      onMessage: ({ cutoff }) => {
        this.sessions.forgetCachedSessions();
        this.cutOffHere(cutoff);
      },
    });
  }

  /** Called on every node for every kill switch in the cluster: the realtime gateway closes the sockets it holds of them. */
  onCutoffInCluster(listener: (cutoff: CutoffEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * `before` defaults to now; a moment in the future is refused (it would refuse logins until
   * then). The other nodes are told before this resolves: the CLI exits right after.
   */
  async revokeBefore(app: AppRecord, before: number = this.clock.now()): Promise<CutoffResult> {
    if (!Number.isSafeInteger(before) || before < 0)
      throw new TesseraError('invalid_request', {
        message: 'before must be a date-time.',
        details: [{ path: '/before', message: 'not a date-time' }],
      });
    if (before > this.clock.now()) {
      throw new TesseraError('invalid_request', {
        message: 'before must not be in the future: that would refuse every login until then.',
        details: [{ path: '/before', message: 'in the future' }],
      });
    }
    const updated = await this.apps.cutSessionsBefore(app, before);
    const cutoff: CutoffEvent = { appId: app.id, before: updated.sessionsRevokedBefore ?? before };
    const revoked = await this.sessions.revokeStartedBefore(updated, cutoff.before);
    this.cutOffHere(cutoff);
    // The store holds the cut-off already: a node that misses this message refuses the sessions
    // once its caches expire, and re-reads its sockets' sessions while its link is down.
    await this.channel.publish({ cutoff });
    return { before: cutoff.before, revoked };
  }

  /** A kill switch used on any node: this node's listeners close the sockets they hold of it. */
  private cutOffHere(cutoff: CutoffEvent): void {
    for (const listener of this.listeners) listener(cutoff);
  }
}
