/**
 * The app's event log as its backends read it: `GET /v1/apps/{namespace}/{app}/events`, a
 * Server-Sent Events stream (`text/event-stream`) authenticated by a secret key with the scope
 * `sessions:read`. The verifier (`@tessera/verifier`) subscribes to it to learn, within
 * milliseconds, that a session ended; an app may read it with any SSE client.
 *
 * - Every event has the app's next `sequence` (1, 2, 3, … with no gaps), written in the same
 *   transaction as the change it records: an event is there exactly when its change is, and
 *   every node of a cluster streams the same events in the same order.
 * - Each SSE message is `id: <sequence>`, `event: <type>`, `data: <the event as JSON>`.
 * - A subscriber resumes after the last sequence it saw with the `Last-Event-ID` header (what
 *   `EventSource` sends by itself) or `?after=<sequence>`; with neither it hears only events
 *   from now on. The first message is always `ready` (see {@link EventStreamReady}).
 * - Events are kept for the app's retention window (at least 15 minutes, and never less than the
 *   app's access-token lifetime plus a minute: an event older than that concerns tokens that
 *   have all expired). A subscriber resuming from before the window is told so by `ready`'s
 *   `gap`, and what it missed cannot be replayed.
 * - While nothing happens, a comment line (`: keep-alive`) is sent every 15 seconds, so a
 *   subscriber that hears nothing for 45 seconds knows the stream is dead and reconnects.
 */
import Type, { type Static } from 'typebox';
import { oneOfStrings, Timestamp } from './schema.js';

/** The path of an app's event stream, below `/v1/apps/{namespace}/{app}`. */
export const EVENTS_PATH = '/events';

/** How often the stream sends a keep-alive comment while no event is sent. */
export const EVENT_STREAM_KEEP_ALIVE_MS = 15_000;

/** The shortest retention window an app may have. */
export const MIN_EVENT_RETENTION_SECONDS = 900;

/**
 * Why sessions ended, as `session.ended` says it. `logout`: the user logged out;
 * `revoked`: the app's backend or an admin ended it; `password_changed`; `user_disabled`;
 * `user_deleted`; `reconnect_token_reused`: a used reconnect token came back, so the session
 * is treated as stolen; `user_upgraded`: an anonymous user signed up and its guest sessions end;
 * `user_ended`: an anonymous user ended; `revoked_before`: every session started before a cutoff.
 */
export const SessionEndReasonSchema = oneOfStrings([
  'logout',
  'revoked',
  'password_changed',
  'user_disabled',
  'user_deleted',
  'reconnect_token_reused',
  'user_upgraded',
  'user_ended',
  'revoked_before',
]);
export type SessionEndReason = Static<typeof SessionEndReasonSchema>;

const eventFields = {
  /** The app's sequence number of this event. */
  sequence: Type.Integer({ minimum: 1 }),
  /** `namespace/app`. */
  app: Type.String(),
  /** When the change was made. */
  at: Timestamp,
};

/**
 * Sessions of one user ended. `tokensExpireBy` is when the last access token issued for them
 * expires: a verifier keeps them as revoked until then, and may forget them after.
 */
export const SessionEndedEventSchema = Type.Object({
  ...eventFields,
  type: Type.Literal('session.ended'),
  userId: Type.String(),
  sessionIds: Type.Array(Type.String(), { minItems: 1 }),
  reason: SessionEndReasonSchema,
  tokensExpireBy: Timestamp,
});

/**
 * A user was disabled. Its sessions end in the same transaction (a `session.ended` with reason
 * `user_disabled` follows); tokens issued before `at` carry a user who may no longer act.
 */
export const UserDisabledEventSchema = Type.Object({
  ...eventFields,
  type: Type.Literal('user.disabled'),
  userId: Type.String(),
  tokensExpireBy: Timestamp,
});

/** A disabled user was enabled again; it must log in anew (its sessions ended when it was disabled). */
export const UserEnabledEventSchema = Type.Object({
  ...eventFields,
  type: Type.Literal('user.enabled'),
  userId: Type.String(),
});

/** A user was deleted, with all its sessions (a `session.ended` with reason `user_deleted` precedes it). */
export const UserDeletedEventSchema = Type.Object({
  ...eventFields,
  type: Type.Literal('user.deleted'),
  userId: Type.String(),
  tokensExpireBy: Timestamp,
});

/**
 * A user's record changed in what its access tokens carry (`roles`, `tags`, `customData`,
 * `kind`, `username`): tokens issued before `at` still carry the old values until they expire.
 * `changed` names the fields.
 */
export const UserChangedEventSchema = Type.Object({
  ...eventFields,
  type: Type.Literal('user.changed'),
  userId: Type.String(),
  changed: Type.Array(oneOfStrings(['roles', 'tags', 'customData', 'kind', 'username', 'profile'])),
});

/** The app's signing key was rotated: a verifier fetches the app's keys again. `kid` is the new key. */
export const SigningKeyRotatedEventSchema = Type.Object({
  ...eventFields,
  type: Type.Literal('signing_key.rotated'),
  kid: Type.String(),
});

export const AppEventSchema = Type.Union([
  SessionEndedEventSchema,
  UserDisabledEventSchema,
  UserEnabledEventSchema,
  UserDeletedEventSchema,
  UserChangedEventSchema,
  SigningKeyRotatedEventSchema,
]);
export type AppEvent = Static<typeof AppEventSchema>;
export type AppEventType = AppEvent['type'];
export type SessionEndedEvent = Static<typeof SessionEndedEventSchema>;
export type UserChangedEvent = Static<typeof UserChangedEventSchema>;

/** Every event type, in the order the docs list them. */
export const APP_EVENT_TYPES = [
  'session.ended',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'user.changed',
  'signing_key.rotated',
] as const satisfies readonly AppEventType[];

/**
 * The first message of every stream (`event: ready`, `id:` the sequence it resumes after).
 * `after` is the last sequence before the events that follow: the subscriber's own when it
 * resumed, otherwise the app's latest. `gap` is `true` when the subscriber asked to resume from
 * before the retention window: some events it has not seen are gone, and whatever it holds
 * from before (cached tokens' sessions, users' roles) must be checked anew. `retentionSeconds`
 * is the app's window.
 */
export const EventStreamReadySchema = Type.Object({
  after: Type.Integer({ minimum: 0 }),
  gap: Type.Boolean(),
  retentionSeconds: Type.Integer({ minimum: MIN_EVENT_RETENTION_SECONDS }),
});
export type EventStreamReady = Static<typeof EventStreamReadySchema>;
