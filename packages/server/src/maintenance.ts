import type { EventRetention } from './events/retention.js';
import type { Clock } from './lib/clock.js';
import type { Repositories } from './store/repositories/index.js';
import type { UserMaintenance, UserMaintenanceReport } from './users/maintenance.js';

export interface MaintenanceReport extends UserMaintenanceReport {
  /** Used token ids (`jti` of the JWT strategy's single-use tokens) forgotten because their tokens expired. */
  prunedTokenIds: number;
  /** App events deleted because they fell out of their app's retention window. */
  prunedEvents: number;
}

/**
 * The server's periodic upkeep of rows that expire: users that do not last (UserMaintenance),
 * app events past their retention window (EventRetention), and the JWT strategy's used token ids, which can no longer be replayed once their tokens have
 * expired, so that table stays small whether or not single-use logins keep coming. The server
 * runs it on an interval; tests call `run` after moving the clock.
 */
export class Maintenance {
  constructor(
    private readonly users: UserMaintenance,
    private readonly repositories: Repositories,
    private readonly clock: Clock,
    private readonly events: EventRetention,
  ) {}

  async run(): Promise<MaintenanceReport> {
    const users = await this.users.run();
    const prunedTokenIds = await this.repositories.usedTokenIds.prune(this.clock.now());
    const prunedEvents = await this.events.prune();
    return { ...users, prunedTokenIds, prunedEvents };
  }
}
