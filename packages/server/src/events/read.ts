import { MIN_EVENT_RETENTION_SECONDS, type AppEvent, type EventStreamReady } from '@tessera/protocol';
import type { AppEventRecord, AppRecord, Repositories } from '../store/repositories/index.js';

/** How many events one read of the log takes at most; a reader that got a full page reads again. */
export const EVENT_PAGE_SIZE = 500;

/**
 * The app's retention window in seconds: the server's setting (at least
 * MIN_EVENT_RETENTION_SECONDS), and never less than the app's access-token lifetime plus a
 * minute, so that an event is kept as long as a token it concerns may still be presented.
 */
export function retentionSecondsOf(app: AppRecord, serverSeconds: number): number {
  return Math.max(serverSeconds, MIN_EVENT_RETENTION_SECONDS, app.settings.accessTokenTtl + 60);
}

/** A stored event as the stream sends it. */
export function presentEvent(record: AppEventRecord, appPath: string): AppEvent {
  const data = JSON.parse(record.data) as Record<string, unknown>;
  return {
    ...data,
    type: record.type,
    sequence: record.sequence,
    app: appPath,
    at: new Date(record.createdAt).toISOString(),
  } as AppEvent;
}

/**
 * Where a stream starts, as its `ready` message says. Without a resume point: after the latest
 * event. A resume point before the oldest event kept, with events pruned in between: `gap`, and
 * the stream goes on from it (what is kept is still sent). A resume point beyond the latest
 * event (a log that was reset, or a subscriber that talked to another deployment): `gap`, and
 * the stream starts after the latest event.
 */
export async function resumePoint(
  repositories: Repositories,
  appId: string,
  requested: number | undefined,
  retentionSeconds: number,
): Promise<EventStreamReady> {
  const { latest, oldest } = await repositories.appEvents.bounds(appId);
  if (requested === undefined) return { after: latest, gap: false, retentionSeconds };
  if (requested > latest) return { after: latest, gap: true, retentionSeconds };
  // The first sequence still kept; every one before it is gone.
  const firstKept = oldest ?? latest + 1;
  return { after: requested, gap: requested < latest && firstKept > requested + 1, retentionSeconds };
}
