import type { AnonymousUsers } from './anonymous-lifecycle.js';
import type { SessionService } from '../auth/sessions/session-service.js';
import type { Clock } from '../lib/clock.js';
import type { Repositories } from '../store/repositories/index.js';

const REMOVE_BATCH = 500;
const REMOVE_MAX_BATCHES = 20;

export interface UserMaintenanceReport {
  /** Anonymous users ended because all their sessions had expired. */
  endedAnonymous: number;
  /** Users removed because their `expires_at` passed (guests, ended anonymous users). */
  removedExpired: number;
}

/**
 * The periodic upkeep of users that do not last: ends anonymous users whose sessions all
 * expired, and removes users whose time is up, with their sessions and tokens. Every step is a
 * conditional statement, so several nodes may run it at once. `Maintenance` (src/maintenance.ts)
 * runs it with the rest of the server's upkeep.
 */
export class UserMaintenance {
  constructor(
    private readonly repositories: Repositories,
    private readonly anonymous: AnonymousUsers,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
  ) {}

  async run(): Promise<UserMaintenanceReport> {
    const endedAnonymous = await this.anonymous.endIdle();
    const removedExpired = await this.removeExpired();
    return { endedAnonymous, removedExpired };
  }

  /** Removes a bounded number of expired users per run, oldest first; the next run goes on. */
  async removeExpired(): Promise<number> {
    let removed = 0;
    for (let batch = 0; batch < REMOVE_MAX_BATCHES; batch += 1) {
      const now = this.clock.now();
      const expired = await this.repositories.ephemeralUsers.findExpired(now, REMOVE_BATCH);
      const deleted = await this.repositories.ephemeralUsers.deleteExpired(expired, now);
      // Their sessions are gone with them (cascade); forget any cached view of them on this node.
      await Promise.all(deleted.map((id) => this.sessions.userChanged(id)));
      removed += deleted.length;
      if (expired.length < REMOVE_BATCH) break;
    }
    return removed;
  }
}
