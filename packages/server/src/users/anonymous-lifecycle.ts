import type { Clock } from '../lib/clock.js';
import type { UserRef } from '../store/repositories/ephemeral-users.js';
import type { AppRecord, Repositories, UserRecord } from '../store/repositories/index.js';
import type { RevocationEvent } from '../auth/sessions/revocations.js';
import type { SessionService } from '../auth/sessions/session-service.js';

/** Users made in the last minute may still be waiting for their first session: the sweep leaves them alone. */
export const NEW_USER_GRACE_MS = 60_000;
const SWEEP_BATCH = 500;
const SWEEP_MAX_BATCHES = 20;

/**
 * The one place that ends anonymous users. An anonymous user is ephemeral (Convergence): when
 * its last session ends — logout, revocation, expiry — it is marked ended, its tokens answer
 * `user_ended` from then on, and the clean-up removes it after the app's `anonymous.retention`.
 * Logging in anonymously again makes a new user.
 *
 * Revocations reach `sessionsEnded` through `RevocationFeed.onRevoked`; sessions that simply
 * expire are found by `endIdle`, which the maintenance job runs. The realtime gateway tells
 * `lastConnectionClosed` when a user's last connection in the cluster closes.
 */
export class AnonymousUsers {
  constructor(
    private readonly repositories: Repositories,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
  ) {}

  /** Listener for `RevocationFeed.onRevoked`. */
  readonly sessionsEnded = async (event: RevocationEvent): Promise<void> => {
    // A deleted user's row goes away with its sessions; there is nothing left to end.
    if (event.reason === 'user_deleted') return;
    await this.endIfNoLiveSession(event.appId, event.userId);
  };

  /** Ends the user if it is a live anonymous user none of whose sessions is live. Returns whether it did. */
  async endIfNoLiveSession(appId: string, userId: string): Promise<boolean> {
    const user = await this.repositories.users.findById(appId, userId);
    if (user?.kind !== 'anonymous' || user.endedAt !== null) return false;
    const app = await this.repositories.apps.findAppById(appId);
    if (app === undefined) return false;
    return (await this.endUsers(app, [userId], true)).length > 0;
  }

  /**
   * A user's last realtime connection in the cluster closed: an anonymous user ends then.
   * `kind` is what the connection knew; the user is read again, as it may have been upgraded to
   * a registered one, or deleted, meanwhile.
   */
  async lastConnectionClosed(app: AppRecord, { id, kind }: Pick<UserRecord, 'id' | 'kind'>): Promise<void> {
    if (kind !== 'anonymous') return;
    const user = await this.repositories.users.findById(app.id, id);
    if (user?.kind === 'anonymous' && user.endedAt === null) await this.end(app, user);
  }

  /** Ends an anonymous user now, with every session it still has. Does nothing for other kinds. */
  async end(app: AppRecord, user: UserRecord): Promise<boolean> {
    if (user.kind !== 'anonymous') return false;
    const ended = (await this.endUsers(app, [user.id], false)).length > 0;
    await this.sessions.revokeAll(user, 'user_ended');
    return ended;
  }

  /** Ends the anonymous users whose sessions have all expired. Returns how many it ended. */
  async endIdle(): Promise<number> {
    let ended = 0;
    for (let batch = 0; batch < SWEEP_MAX_BATCHES; batch += 1) {
      const now = this.clock.now();
      const idle = await this.repositories.ephemeralUsers.findIdleAnonymous(now, now - NEW_USER_GRACE_MS, SWEEP_BATCH);
      for (const [appId, ids] of groupByApp(idle)) {
        const app = await this.repositories.apps.findAppById(appId);
        if (app !== undefined) ended += (await this.endUsers(app, ids, true)).length;
      }
      if (idle.length < SWEEP_BATCH) break;
    }
    return ended;
  }

  private async endUsers(app: AppRecord, ids: string[], onlyWithoutLiveSession: boolean): Promise<string[]> {
    const now = this.clock.now();
    const expiresAt = now + app.settings.strategies.anonymous.retention * 1000;
    const ended = await this.repositories.ephemeralUsers.endAnonymous(app.id, ids, {
      now,
      expiresAt,
      onlyWithoutLiveSession,
    });
    await Promise.all(ended.map((id) => this.sessions.userChanged(id)));
    return ended;
  }
}

function groupByApp(users: UserRef[]): Map<string, string[]> {
  const byApp = new Map<string, string[]>();
  for (const { id, appId } of users) {
    const ids = byApp.get(appId);
    if (ids === undefined) byApp.set(appId, [id]);
    else ids.push(id);
  }
  return byApp;
}
