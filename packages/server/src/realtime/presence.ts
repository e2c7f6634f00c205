import type {
  PresenceEntry,
  PresenceJoinFrame,
  PresenceLeaveFrame,
  PresenceSession,
  UserKind,
} from '@tessera/protocol';

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

/** How many connections one node holds to one session: what nodes tell each other. 0 means none. */
export interface SessionPart {
  readonly appId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly kind: UserKind;
  readonly displayName: string | null;
  readonly connections: number;
}

export interface PresenceEvents<M extends PresenceMember> {
  /** A leave on this node left the user without a connection anywhere in the cluster. */
  userOffline(member: M): void;
  /** This node's part of a session changed: the other nodes must hear of it. */
  localChange(part: SessionPart): void;
}

/** Which parts `dropNode` keeps. */
export type KeepPart = (appId: string, userId: string, sessionId: string) => boolean;

interface Part {
  /** Interned: every part of a node shares one string. */
  readonly node: string;
  readonly sessionId: string;
  connections: number;
}

interface OnlineUser {
  kind: UserKind;
  displayName: string | null;
  /** One per session and node holding it. Few per user: an array costs less memory than Maps at ten thousand users. */
  parts: Part[];
}

interface AppPresence {
  users: Map<string, OnlineUser>;
  /** Each subscriber with the users it follows; null follows everyone. */
  subscribers: Map<PresenceSubscriber, ReadonlySet<string> | null>;
}

/**
 * Who is online in the cluster, per app: each user with its sessions and how many connections
 * each node holds to each session. This node's connections change through `join` and `leave`;
 * the other nodes' through `set` and `dropNode` (PresenceSync feeds them from the cluster bus).
 * A session's first connection anywhere is a join, its last one anywhere a leave; both go to
 * the app's subscribers on this node, with the cluster's counts.
 */
export class Presence<M extends PresenceMember = PresenceMember> {
  /** Not a cache: it holds what real connections (this node's, and the cluster's over the bus) hold, and forgets it when they leave. */
  private readonly apps = new Map<string, AppPresence>();
  private readonly nodeIds = new Map<string, string>();
  private silenced = false;

  constructor(
    readonly nodeId: string,
    private readonly events: PresenceEvents<M>,
  ) {}

  /** Whether any node of the cluster, as this node sees it, holds a connection of the user. */
  isOnline(appId: string, userId: string): boolean {
    return this.apps.get(appId)?.users.has(userId) ?? false;
  }

  /** Each of the user's sessions with its connections on every node, as this node sees them. */
  sessionsOf(appId: string, userId: string): PresenceSession[] {
    const user = this.apps.get(appId)?.users.get(userId);
    return user === undefined ? [] : entryOf(userId, user).sessions;
  }

  /** The user's connections on this node (the per-user limit is per node). */
  connectionsOf(appId: string, userId: string): number {
    let connections = 0;
    for (const part of this.apps.get(appId)?.users.get(userId)?.parts ?? [])
      if (part.node === this.nodeId) connections += part.connections;
    return connections;
  }

  join(member: M): void {
    this.changeLocal(member, 1);
  }

  leave(member: M): void {
    if (this.changeLocal(member, -1)) this.events.userOffline(member);
  }

  /**
   * Sets how many connections `node` holds to a session; setting the same value twice changes
   * nothing. Returns whether the user has no connection left anywhere because of it.
   */
  set(node: string, part: SessionPart): boolean {
    const { appId, userId, sessionId, connections } = part;
    const app = connections > 0 ? this.appOf(appId) : this.apps.get(appId);
    let user = app?.users.get(userId);
    if (app === undefined || (user === undefined && connections <= 0)) return false;
    if (user === undefined)
      app.users.set(userId, (user = { kind: part.kind, displayName: part.displayName, parts: [] }));
    const before = sessionConnections(user, sessionId);
    const index = user.parts.findIndex((candidate) => candidate.node === node && candidate.sessionId === sessionId);
    const previous = index < 0 ? 0 : user.parts[index]!.connections;
    if (connections > 0) {
      user.kind = part.kind;
      user.displayName = part.displayName;
      if (index < 0) user.parts.push({ node: this.intern(node), sessionId, connections });
      else user.parts[index]!.connections = connections;
    } else if (index >= 0) {
      user.parts.splice(index, 1);
    }
    return this.sessionChanged(
      app,
      appId,
      userId,
      user,
      sessionId,
      before,
      before - previous + Math.max(0, connections),
    );
  }

  /**
   * Forgets what `node` holds (all of it, or what `keep` refuses): its sessions held nowhere
   * else leave.
   */
  dropNode(node: string, keep?: KeepPart): void {
    const dropped: SessionPart[] = [];
    for (const [appId, app] of this.apps) {
      for (const [userId, user] of app.users) {
        for (const part of user.parts) {
          if (part.node === node && keep?.(appId, userId, part.sessionId) !== true)
            dropped.push({
              appId,
              userId,
              sessionId: part.sessionId,
              kind: user.kind,
              displayName: user.displayName,
              connections: 0,
            });
        }
      }
    }
    for (const part of dropped) this.set(node, part);
    if (keep === undefined) this.nodeIds.delete(node);
  }

  /** What `node` holds, one part per session. */
  *partsOf(node: string): Generator<SessionPart> {
    for (const [appId, app] of this.apps) {
      for (const [userId, user] of app.users) {
        for (const part of user.parts) {
          if (part.node === node)
            yield {
              appId,
              userId,
              sessionId: part.sessionId,
              kind: user.kind,
              displayName: user.displayName,
              connections: part.connections,
            };
        }
      }
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
  snapshot(
    appId: string,
    userIds: readonly string[] | undefined,
    limit: number,
  ): { users: PresenceEntry[]; truncated: boolean } {
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

  /** Returns whether the user went offline in the cluster. */
  private changeLocal(member: M, delta: 1 | -1): boolean {
    const current =
      this.apps
        .get(member.appId)
        ?.users.get(member.userId)
        ?.parts.find((part) => part.node === this.nodeId && part.sessionId === member.sessionId)?.connections ?? 0;
    if (current + delta < 0) return false;
    const part: SessionPart = {
      appId: member.appId,
      userId: member.userId,
      sessionId: member.sessionId,
      kind: member.kind,
      displayName: member.displayName,
      connections: current + delta,
    };
    const offline = this.set(this.nodeId, part);
    this.events.localChange(part);
    return offline;
  }

  private sessionChanged(
    app: AppPresence,
    appId: string,
    userId: string,
    user: OnlineUser,
    sessionId: string,
    before: number,
    after: number,
  ): boolean {
    if (before === 0 && after > 0) {
      this.publish(app, userId, { type: 'presence.join', sessionId, entry: entryOf(userId, user) });
      return false;
    }
    if (before === 0 || after > 0) return false;
    const offline = user.parts.length === 0;
    if (offline) app.users.delete(userId);
    this.publish(app, userId, {
      type: 'presence.leave',
      userId,
      sessionId,
      entry: offline ? null : entryOf(userId, user),
    });
    if (offline) this.dropIfEmpty(appId, app);
    return offline;
  }

  private publish(app: AppPresence, userId: string, frame: PresenceJoinFrame | PresenceLeaveFrame): void {
    if (this.silenced || app.subscribers.size === 0) return;
    // Serialised once, however many subscribers receive it.
    const json = JSON.stringify(frame);
    for (const [subscriber, follows] of app.subscribers)
      if (follows === null || follows.has(userId)) subscriber.deliver(json);
  }

  private appOf(appId: string): AppPresence {
    let app = this.apps.get(appId);
    if (app === undefined) this.apps.set(appId, (app = { users: new Map(), subscribers: new Map() }));
    return app;
  }

  private dropIfEmpty(appId: string, app: AppPresence): void {
    if (app.users.size === 0 && app.subscribers.size === 0) this.apps.delete(appId);
  }

  /** Node ids parsed from messages are new strings each time: parts share one. */
  private intern(node: string): string {
    let interned = this.nodeIds.get(node);
    if (interned === undefined) this.nodeIds.set(node, (interned = node));
    return interned;
  }
}

function sessionConnections(user: OnlineUser, sessionId: string): number {
  let connections = 0;
  for (const part of user.parts) if (part.sessionId === sessionId) connections += part.connections;
  return connections;
}

/** The user as the cluster holds it: one session per session id, counts summed over the nodes. */
function entryOf(userId: string, user: OnlineUser): PresenceEntry {
  const sessions: PresenceSession[] = [];
  let connections = 0;
  for (const part of user.parts) {
    connections += part.connections;
    const session = sessions.find((candidate) => candidate.sessionId === part.sessionId);
    if (session === undefined) sessions.push({ sessionId: part.sessionId, connections: part.connections });
    else session.connections += part.connections;
  }
  return { userId, kind: user.kind, displayName: user.displayName, connections, sessions };
}
