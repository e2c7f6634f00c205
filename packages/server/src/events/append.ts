import type { AppEventType, SessionEndReason, UserChangedEvent } from '@tessera/protocol';
import type { Clock } from '../lib/clock.js';
import type { Repositories } from '../store/repositories/index.js';
import type { EventWakeUps } from './wake-ups.js';

/** A field of a user that its access tokens carry, as `user.changed` names it. */
export type ChangedUserField = UserChangedEvent['changed'][number];

/** An event as the code that makes a change gives it; the log adds sequence, app, time and expiries. */
export type EventDraft =
  | { type: 'session.ended'; userId: string; sessionIds: string[]; reason: SessionEndReason }
  | { type: 'user.disabled'; userId: string }
  | { type: 'user.enabled'; userId: string }
  | { type: 'user.deleted'; userId: string }
  | { type: 'user.changed'; userId: string; changed: ChangedUserField[] }
  | { type: 'signing_key.rotated'; kid: string };

/** Event types that say until when the tokens issued before them may still be presented. */
const WITH_TOKEN_EXPIRY: ReadonlySet<AppEventType> = new Set(['session.ended', 'user.disabled', 'user.deleted']);

/**
 * Appends events to an app's log in the transaction of the change they record (see
 * AppEventsRepository.append), and once that transaction commits, wakes the readers of every
 * node. A change that rolls back leaves no event; a committed change always has its event.
 */
export class AppEventLog {
  constructor(
    private readonly wakeUps: EventWakeUps,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends `draft` to the app's log within `repositories`' transaction (or a transaction of its
   * own outside one). `session.ended` with no session appends nothing. `tokensExpireBy` is the
   * change's time plus the app's access-token lifetime: the last token issued before it expires
   * by then.
   */
  async append(repositories: Repositories, appId: string, draft: EventDraft): Promise<void> {
    if (draft.type === 'session.ended' && draft.sessionIds.length === 0) return;
    await repositories.transaction(async (inTransaction) => {
      const now = this.clock.now();
      const { type, ...fields } = draft;
      const data: Record<string, unknown> = { ...fields };
      if (WITH_TOKEN_EXPIRY.has(type))
        data.tokensExpireBy = new Date(now + (await ttlMs(inTransaction, appId))).toISOString();
      const sequence = await inTransaction.appEvents.append({
        appId,
        type,
        userId: 'userId' in draft ? draft.userId : null,
        data: JSON.stringify(data),
        createdAt: now,
      });
      inTransaction.afterCommit(() => this.wakeUps.committed({ app: appId, sequence }));
    });
  }
}

/** The app's access-token lifetime, read in the change's transaction. */
async function ttlMs(repositories: Repositories, appId: string): Promise<number> {
  const app = await repositories.apps.findAppById(appId);
  if (app === undefined) throw new Error(`app ${appId} not found while appending its event`);
  return app.settings.accessTokenTtl * 1000;
}
