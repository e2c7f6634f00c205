import type { Session, User } from '@tessera/protocol';
import { toIso, toIsoOrNull } from '../lib/clock.js';
import type { SessionRecord, UserRecord } from '../store/repositories/index.js';

/** The user as the API shows it: everything but secrets. */
export function presentUser(user: UserRecord): User {
  return {
    id: user.id,
    externalId: user.externalId,
    kind: user.kind,
    username: user.username,
    email: user.email,
    fullName: user.fullName,
    phone: user.phone,
    website: user.website,
    avatarUrl: user.avatarUrl,
    tags: user.tags,
    roles: user.roles,
    customData: user.customData,
    disabled: user.disabledAt !== null,
    createdAt: toIso(user.createdAt),
    updatedAt: toIso(user.updatedAt),
    lastLoginAt: toIsoOrNull(user.lastLoginAt),
  };
}

/** `connections`: the session's live realtime connections (see LiveConnections). */
export function presentSession(
  session: SessionRecord,
  connections: ReadonlyMap<string, number>,
  currentSessionId?: string,
): Session {
  return {
    id: session.id,
    strategy: session.strategy,
    createdAt: toIso(session.createdAt),
    lastSeenAt: toIso(session.lastSeenAt),
    idleExpiresAt: toIso(session.idleExpiresAt),
    expiresAt: toIso(session.expiresAt),
    userAgent: session.userAgent,
    ip: session.ip,
    connections: connections.get(session.id) ?? 0,
    ...(currentSessionId === undefined ? {} : { current: session.id === currentSessionId }),
  };
}
