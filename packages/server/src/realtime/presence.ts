import type { PresenceEntry, PresenceJoinFrame, PresenceLeaveFrame, PresenceSession, UserKind } from '@tessera/protocol';

/** One authenticated connection as presence counts it. */
export interface PresenceMember {
  readonly appId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly kind: UserKind;
  readonly displayName: string | null;
}

/** A connection that receives join and leave events. */
export interface PresenceSubscriber {
  /** Sends an already serialised frame. */
  deliver(json: string): void;
}

interface OnlineUser {
  kind: UserKind;
  displayName: string | null;
  connections: number;
  /** Few per user: an array costs less memory than a Map at ten thousand users. */
  sessions: PresenceSession[];
}

interface AppPresence {
  users: Map<string, OnlineUser>;
  /** Each subscriber with the users it follows; null follows everyone. */
  subscribers: Map<PresenceSubscriber, ReadonlySet<string> | null>;
}

/**
 * Who is online on this node, per app: each user with its sessions and how many connections
 * each has. A session's first connection is a join, its last a leave; both go to the app's
 * subscribers. When a user's last connection closes, `onUserOffline` hears of it (the gateway
 * ends anonymous users there).
 */
export class Presence<M extends PresenceMember = PresenceMember> {
  private readonly apps = new Map<string, AppPresence>();
  private silenced = false;

  constructor(private readonly onUserOffline: (member: M) => void) {}

  connectionsOf(appId: string, userId: string): number {
    return this.apps.get(appId)?.users.get(userId)?.connections ?? 0;
  }

  join(member: M): void {
    const app = this.appOf(member.appId);
    let user = app.users.get(member.userId);
    if (user === undefined) app.users.set(member.userId, (user = { kind: member.kind, displayName: member.displayName, connections: 0, sessions: [] }));
    user.connections += 1;
    const session = user.sessions.find((candidate) => candidate.sessionId === member.sessionId);
    if (session !== undefined) {
      session.connections += 1;
      return;
    }
    user.sessions.push({ sessionId: member.sessionId, connections: 1 });
    const frame: PresenceJoinFrame = { type: 'presence.join', sessionId: member.sessionId, entry: entryOf(member.userId, user) };
    this.publish(app, member.userId, frame);
  }

  leave(member: M): void {
    const app = this.apps.get(member.appId);
    const user = app?.users.get(member.userId);
    const index = user?.sessions.findIndex((candidate) => candidate.sessionId === member.sessionId) ?? -1;
    if (app === undefined || user === undefined || index < 0) return;
    user.connections -= 1;
    const session = user.sessions[index]!;
    session.connections -= 1;
    if (session.connections > 0) return;
    user.sessions.splice(index, 1);
    const offline = user.connections === 0;
    if (offline) app.users.delete(member.userId);
    const frame: PresenceLeaveFrame = { type: 'presence.leave', userId: member.userId, sessionId: member.sessionId, entry: offline ? null : entryOf(member.userId, user) };
    this.publish(app, member.userId, frame);
    if (offline) {
      this.dropIfEmpty(member.appId, app);
      this.onUserOffline(member);
    }
  }

  subscribe(appId: string, subscriber: PresenceSubscriber, userIds: readonly string[] | undefined): void {
    this.appOf(appId).subscribers.set(subscriber, userIds === undefined ? null : new Set(userIds));
  }

  unsubscribe(appId: string, subscriber: PresenceSubscriber): void {
    const app = this.apps.get(appId);
    if (app === undefined) return;
    app.subscribers.delete(subscriber);
    this.dropIfEmpty(appId, app);
  }

  /** The online users of an app (only `userIds` when given), at most `limit` of them. */
  snapshot(appId: string, userIds: readonly string[] | undefined, limit: number): { users: PresenceEntry[]; truncated: boolean } {
    const online = this.apps.get(appId)?.users ?? new Map<string, OnlineUser>();
    const users: PresenceEntry[] = [];
    const ids = userIds ?? online.keys();
    for (const userId of ids) {
      const user = online.get(userId);
      if (user === undefined) continue;
      if (users.length === limit) return { users, truncated: true };
      users.push(entryOf(userId, user));
    }
    return { users, truncated: false };
  }

  /** Stops events, for a shutdown that closes every connection at once. */
  silence(): void {
    this.silenced = true;
  }

  private publish(app: AppPresence, userId: string, frame: PresenceJoinFrame | PresenceLeaveFrame): void {
    if (this.silenced || app.subscribers.size === 0) return;
    // Serialised once, however many subscribers receive it.
    const json = JSON.stringify(frame);
    for (const [subscriber, follows] of app.subscribers) if (follows === null || follows.has(userId)) subscriber.deliver(json);
  }

  private appOf(appId: string): AppPresence {
    let app = this.apps.get(appId);
    if (app === undefined) this.apps.set(appId, (app = { users: new Map(), subscribers: new Map() }));
    return app;
  }

  private dropIfEmpty(appId: string, app: AppPresence): void {
    if (app.users.size === 0 && app.subscribers.size === 0) this.apps.delete(appId);
  }
}

function entryOf(userId: string, user: OnlineUser): PresenceEntry {
  return {
    userId,
    kind: user.kind,
    displayName: user.displayName,
    connections: user.connections,
    sessions: user.sessions.map((session) => ({ sessionId: session.sessionId, connections: session.connections })),
  };
}
