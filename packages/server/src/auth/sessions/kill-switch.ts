import type { AppService } from '../../apps/app-service.js';
import { TesseraError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import type { AppRecord } from '../../store/repositories/index.js';
import type { SessionService } from './session-service.js';

export interface CutoffResult {
  /** The cut-off in force: the one asked for, or a later one used before. */
  before: number;
  /** Live sessions this call ended. */
  revoked: number;
}

/**
 * The app-wide kill switch after a breach: every session of the app started before a moment
 * ends, on every node, and can never come back. The moment is kept on the app first, so that a
 * session whose login was being written while the sweep ran is refused as well; then the sweep
 * ends the live sessions in the store and every node closes their sockets.
 */
export class SessionKillSwitch {
  constructor(
    private readonly apps: AppService,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
  ) {}

  /** `before` defaults to now; a moment in the future is refused (it would refuse logins until then). */
  async revokeBefore(app: AppRecord, before: number = this.clock.now()): Promise<CutoffResult> {
    if (!Number.isSafeInteger(before) || before < 0) throw new TesseraError('invalid_request', { message: 'before must be a date-time.', details: [{ path: '/before', message: 'not a date-time' }] });
    if (before > this.clock.now()) {
      throw new TesseraError('invalid_request', { message: 'before must not be in the future: that would refuse every login until then.', details: [{ path: '/before', message: 'in the future' }] });
    }
    const updated = await this.apps.cutSessionsBefore(app, before);
    const cutoff = updated.sessionsRevokedBefore ?? before;
    return { before: cutoff, revoked: await this.sessions.revokeStartedBefore(updated, cutoff) };
  }
}
