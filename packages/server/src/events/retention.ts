import type { Clock } from '../lib/clock.js';
import type { Repositories } from '../store/repositories/index.js';
import { retentionSecondsOf } from './read.js';

/**
 * Prunes each app's events older than its retention window (see retentionSecondsOf); the
 * periodic maintenance runs it. A subscriber that resumes from before what is left hears
 * `gap: true` in its `ready`.
 */
export class EventRetention {
  constructor(
    private readonly repositories: Repositories,
    private readonly clock: Clock,
    /** The server's `events.retentionSeconds`. */
    private readonly retentionSeconds: number,
  ) {}

  /** Returns how many events it deleted. */
  async prune(): Promise<number> {
    let pruned = 0;
    for (const appId of await this.repositories.appEvents.appIds()) {
      const app = await this.repositories.apps.findAppById(appId);
      if (app === undefined) continue;
      const window = retentionSecondsOf(app, this.retentionSeconds);
      pruned += await this.repositories.appEvents.prune(appId, this.clock.now() - window * 1000);
    }
    return pruned;
  }
}
