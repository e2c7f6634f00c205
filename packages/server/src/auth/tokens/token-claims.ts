import { ACCESS_TOKEN_USER_CLAIMS_MAX_BYTES, type UserTokenClaims } from '@tessera/protocol';
import type { Logger } from 'pino';
import type { AccessTokenClaimsSettings } from '../../apps/access-token-claims.js';
import { BoundedCache } from '../../lib/bounded-cache.js';
import type { Clock } from '../../lib/clock.js';
import type { AppRecord, UserRecord } from '../../store/repositories/index.js';

/** The user's fields an access token may copy. */
export type ClaimedUserFields = Pick<UserRecord, 'id' | 'roles' | 'tags' | 'customData'>;

export interface ComputedUserClaims {
  claims: UserTokenClaims;
  /** What did not fit in the bound (`tags`, `customData.<path>`), in the order it was left out. */
  omitted: string[];
}

/** A user whose claims were cut is logged once a day per app, not at every refresh. */
const WARNED_TTL_MS = 24 * 3600 * 1000;
const WARNED_MAX_ENTRIES = 10_000;

/**
 * The claims an access token carries about its user, from the user and the app's
 * `accessTokenClaims` setting: the one place they are computed, at every token issue (login,
 * refresh, upgrade), so that every token and everything that reads them say the same thing.
 */
export class UserClaims {
  private readonly warned: BoundedCache<string, { omitted: string[] }>;

  constructor(
    clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.warned = new BoundedCache({ clock, maxEntries: WARNED_MAX_ENTRIES, ttlMs: WARNED_TTL_MS });
  }

  of(app: AppRecord, user: ClaimedUserFields): UserTokenClaims {
    const { claims, omitted } = computeUserClaims(app.settings.accessTokenClaims, user);
    if (omitted.length > 0) this.warnOnce(app, user.id, omitted);
    return claims;
  }

  private warnOnce(app: AppRecord, userId: string, omitted: string[]): void {
    const key = `${app.id}:${userId}`;
    if (this.warned.get(key) !== undefined) return;
    this.warned.set(key, { omitted });
    // Names only: the values are the user's data.
    this.logger?.warn(
      { app: app.path, userId, omitted, maxBytes: ACCESS_TOKEN_USER_CLAIMS_MAX_BYTES },
      'access token: user claims over the size bound were left out',
    );
  }
}

/**
 * Roles first, then tags, then each customData path in the setting's order; each is taken whole
 * or left out when it would take the claims' JSON past `maxBytes`. A login never fails for it:
 * the user's data is the app's, and a token without a claim is still the user's token.
 */
export function computeUserClaims(
  settings: AccessTokenClaimsSettings,
  user: Pick<UserRecord, 'roles' | 'tags' | 'customData'>,
  maxBytes: number = ACCESS_TOKEN_USER_CLAIMS_MAX_BYTES,
): ComputedUserClaims {
  const claims: UserTokenClaims = {};
  const omitted: string[] = [];
  // Adds a claim, and takes it back (with its name in `omitted`) when the claims no longer fit.
  const keep = (name: string, add: () => () => void): void => {
    const undo = add();
    if (Buffer.byteLength(JSON.stringify(claims)) <= maxBytes) return;
    undo();
    omitted.push(name);
  };
  if (settings.roles)
    keep('roles', () => {
      claims.roles = user.roles;
      return () => delete claims.roles;
    });
  if (settings.tags)
    keep('tags', () => {
      claims.tags = user.tags;
      return () => delete claims.tags;
    });
  if (settings.customData.length > 0) {
    const projection: Record<string, unknown> = {};
    claims.customData = projection;
    for (const path of settings.customData) {
      const value = valueAt(user.customData, path);
      if (value !== undefined) keep(`customData.${path}`, () => setAt(projection, path, value));
    }
  }
  return { claims, omitted };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at a dotted path of the user's customData, by own properties only; undefined when absent. */
function valueAt(data: Record<string, unknown> | null, path: string): unknown {
  let current: unknown = data;
  for (const segment of path.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/**
 * Writes `value` at `path` of `target`, making the objects on the way; returns how to take it
 * back, objects it made included. Paths never overlap (the setting refuses it) nor name a prototype.
 */
function setAt(target: Record<string, unknown>, path: string, value: unknown): () => void {
  const segments = path.split('.');
  const last = segments.pop()!;
  let parent = target;
  let firstMade: { owner: Record<string, unknown>; key: string } | undefined;
  for (const segment of segments) {
    const existing = parent[segment];
    if (isRecord(existing)) {
      parent = existing;
      continue;
    }
    const made: Record<string, unknown> = {};
    parent[segment] = made;
    firstMade ??= { owner: parent, key: segment };
    parent = made;
  }
  parent[last] = value;
  const owner = parent;
  return () => {
    if (firstMade === undefined) Reflect.deleteProperty(owner, last);
    else Reflect.deleteProperty(firstMade.owner, firstMade.key);
  };
}
