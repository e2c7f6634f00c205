/**
 * The realtime protocol: the frames a client and the server exchange over the WebSocket at
 * `/v1/apps/{namespace}/{app}/realtime`. Every frame is one JSON object with a `type`; a client
 * frame may carry an `id`, which the server echoes in the frame that answers it.
 *
 * Each frame has a TypeScript type and a plain JSON Schema (draft 2020-12 subset, no `$ref`), so
 * a server, a client or a test can validate frames with any JSON Schema validator. This module
 * has no runtime dependency.
 */
import type { AuthenticationBody, Session, User, UserKind } from './rest.js';

/** The WebSocket subprotocol of this version of the protocol. */
export const REALTIME_SUBPROTOCOL = 'tessera.v1';

/**
 * Browsers cannot set headers on a WebSocket upgrade: they may send the access token as a second
 * subprotocol, `bearer.<accessToken>`, next to {@link REALTIME_SUBPROTOCOL}. The server answers
 * with `tessera.v1` only.
 */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

/** Echoed in the answer to the frame that carried it. */
export type FrameId = string | number;

// ---------------------------------------------------------------------------------------------
// Client → server

/** Logs in with any strategy the app has enabled: the body of `POST …/authentication`, plus `type`. */
export type AuthenticateFrame = { type: 'authenticate'; id?: FrameId } & AuthenticationBody;

/** Continues the connection with fresh credentials of the same user, without reconnecting. */
export type RefreshFrame = { type: 'refresh'; id?: FrameId } & ({ reconnectToken: string } | { accessToken: string });

/** Starts receiving `presence.join` / `presence.leave`; answered by a `presence.state` snapshot. */
export interface PresenceSubscribeFrame {
  type: 'presence.subscribe';
  id?: FrameId;
  /** Only these users (at most 1,000); all of the app's users when absent. */
  userIds?: string[];
}

/** Stops presence events. Not answered. */
export interface PresenceUnsubscribeFrame {
  type: 'presence.unsubscribe';
  id?: FrameId;
}

/** Asks who is online; answered by `presence.state`. */
export interface PresenceQueryFrame {
  type: 'presence.query';
  id?: FrameId;
  /** Only these users (at most 100); every online user (up to a bound) when absent. */
  userIds?: string[];
}

/** Answered by `pong`. Counts as activity on the session. */
export interface PingFrame {
  type: 'ping';
  id?: FrameId;
}

export type ClientFrame =
  AuthenticateFrame | RefreshFrame | PresenceSubscribeFrame | PresenceUnsubscribeFrame | PresenceQueryFrame | PingFrame;
export type ClientFrameType = ClientFrame['type'];

// ---------------------------------------------------------------------------------------------
// Server → client

export interface RealtimeAuthentication {
  /** The strategy that proved the identity (`access-token` for a token given at the upgrade). */
  strategy: string;
  accessTokenExpiresAt: string;
  /** Present when the frame issued a reconnect token. */
  reconnectTokenExpiresAt?: string;
}

/** The answer to a successful authentication, by frame or by a token at the upgrade. */
export interface AuthenticatedFrame {
  type: 'authenticated';
  id?: FrameId;
  /** This connection, as presence names it. */
  connectionId: string;
  user: User;
  session: Pick<Session, 'id' | 'expiresAt' | 'idleExpiresAt'>;
  authentication: RealtimeAuthentication;
  /** New tokens, present when an `authenticate` frame logged in; keep them as after a REST login. */
  accessToken?: string;
  reconnectToken?: string;
}

/** The answer to a successful `refresh`. New tokens are present when a reconnect token was spent. */
export interface RefreshedFrame {
  type: 'refreshed';
  id?: FrameId;
  user: User;
  session: Pick<Session, 'id' | 'expiresAt' | 'idleExpiresAt'>;
  authentication: RealtimeAuthentication;
  accessToken?: string;
  reconnectToken?: string;
}

/**
 * Pushed ahead of an expiry that will close the connection. `access_token`: refresh before
 * `expiresAt`; `idle`: any frame (a `ping`) keeps the session alive; `session`: the session's
 * absolute lifetime ends and only a new login continues.
 */
export interface SessionExpiringFrame {
  type: 'session.expiring';
  reason: 'access_token' | 'idle' | 'session';
  expiresAt: string;
}

export interface PresenceSession {
  sessionId: string;
  connections: number;
}

/** One online user as presence shows it. */
export interface PresenceEntry {
  userId: string;
  kind: UserKind;
  /** The user's full name, else its username, else null. */
  displayName: string | null;
  /** Open connections across the user's sessions. */
  connections: number;
  sessions: PresenceSession[];
}

export interface PresenceStateFrame {
  type: 'presence.state';
  id?: FrameId;
  users: PresenceEntry[];
  /** True when more users are online than one answer lists. */
  truncated: boolean;
}

/** A session of a user came online (its first connection opened). `entry` is the user after the change. */
export interface PresenceJoinFrame {
  type: 'presence.join';
  sessionId: string;
  entry: PresenceEntry;
}

/** A session of a user went offline (its last connection closed). `entry` is null when the user went offline. */
export interface PresenceLeaveFrame {
  type: 'presence.leave';
  userId: string;
  sessionId: string;
  entry: PresenceEntry | null;
}

/** A frame was refused; the connection stays open. `code` is a key of the error registry. */
export interface ErrorFrame {
  type: 'error';
  id?: FrameId;
  code: string;
  message: string;
  details?: unknown;
}

export interface PongFrame {
  type: 'pong';
  id?: FrameId;
  /** The server's time, to estimate clock skew. */
  serverTime: string;
}

export type ServerFrame =
  | AuthenticatedFrame
  | RefreshedFrame
  | SessionExpiringFrame
  | PresenceStateFrame
  | PresenceJoinFrame
  | PresenceLeaveFrame
  | ErrorFrame
  | PongFrame;
export type ServerFrameType = ServerFrame['type'];

// ---------------------------------------------------------------------------------------------
// JSON Schemas

/** A JSON Schema, as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

const frameId = {
  type: ['string', 'integer'],
  minLength: 1,
  maxLength: 64,
  minimum: -Number.MAX_SAFE_INTEGER,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Echoed in the answer.',
} as const;
const isoTime = { type: 'string', format: 'date-time' } as const;
const token = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;
const userIds = (maxItems: number) =>
  ({ type: 'array', maxItems, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } }) as const;

function frame(
  type: string,
  properties: Record<string, JsonSchema>,
  required: string[] = [],
  description?: string,
): JsonSchema {
  return {
    type: 'object',
    ...(description === undefined ? {} : { description }),
    properties: { type: { const: type }, ...properties },
    required: ['type', ...required],
    additionalProperties: false,
  };
}

/**
 * Schemas of the client's frames, by type. `authenticate` checks only its envelope here: the
 * fields of each strategy are checked by that strategy, as for `POST …/authentication`.
 */
export const CLIENT_FRAME_SCHEMAS = {
  authenticate: {
    type: 'object',
    description: 'A login body of any enabled strategy, with `type`.',
    properties: {
      type: { const: 'authenticate' },
      id: frameId,
      strategy: { type: 'string', minLength: 1, maxLength: 64 },
    },
    required: ['type', 'strategy'],
    additionalProperties: true,
  },
  refresh: {
    type: 'object',
    description: 'Exactly one of `reconnectToken` or `accessToken`.',
    properties: { type: { const: 'refresh' }, id: frameId, reconnectToken: token(256), accessToken: token(8192) },
    required: ['type'],
    oneOf: [{ required: ['reconnectToken'] }, { required: ['accessToken'] }],
    additionalProperties: false,
  },
  'presence.subscribe': frame('presence.subscribe', { id: frameId, userIds: userIds(1000) }),
  'presence.unsubscribe': frame('presence.unsubscribe', { id: frameId }),
  'presence.query': frame('presence.query', { id: frameId, userIds: userIds(100) }),
  ping: frame('ping', { id: frameId }),
} as const satisfies Record<ClientFrameType, JsonSchema>;

const userSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'kind', 'username', 'email', 'fullName', 'disabled', 'createdAt', 'updatedAt'],
  properties: { id: { type: 'string' }, kind: { enum: ['registered', 'anonymous', 'guest', 'external'] } },
  additionalProperties: true,
};
const sessionSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'expiresAt', 'idleExpiresAt'],
  properties: { id: { type: 'string' }, expiresAt: isoTime, idleExpiresAt: isoTime },
  additionalProperties: false,
};
const authenticationSchema: JsonSchema = {
  type: 'object',
  required: ['strategy', 'accessTokenExpiresAt'],
  properties: { strategy: { type: 'string' }, accessTokenExpiresAt: isoTime, reconnectTokenExpiresAt: isoTime },
  additionalProperties: false,
};
const presenceEntrySchema: JsonSchema = {
  type: 'object',
  required: ['userId', 'kind', 'displayName', 'connections', 'sessions'],
  properties: {
    userId: { type: 'string' },
    kind: { enum: ['registered', 'anonymous', 'guest', 'external'] },
    displayName: { type: ['string', 'null'] },
    connections: { type: 'integer', minimum: 1 },
    sessions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['sessionId', 'connections'],
        properties: { sessionId: { type: 'string' }, connections: { type: 'integer', minimum: 1 } },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};
const credentials = { accessToken: { type: 'string' }, reconnectToken: { type: 'string' } } as const;

/** Schemas of the server's frames, by type. */
export const SERVER_FRAME_SCHEMAS = {
  authenticated: frame(
    'authenticated',
    {
      id: frameId,
      connectionId: { type: 'string' },
      user: userSchema,
      session: sessionSchema,
      authentication: authenticationSchema,
      ...credentials,
    },
    ['connectionId', 'user', 'session', 'authentication'],
  ),
  refreshed: frame(
    'refreshed',
    { id: frameId, user: userSchema, session: sessionSchema, authentication: authenticationSchema, ...credentials },
    ['user', 'session', 'authentication'],
  ),
  'session.expiring': frame(
    'session.expiring',
    { reason: { enum: ['access_token', 'idle', 'session'] }, expiresAt: isoTime },
    ['reason', 'expiresAt'],
  ),
  'presence.state': frame(
    'presence.state',
    { id: frameId, users: { type: 'array', items: presenceEntrySchema }, truncated: { type: 'boolean' } },
    ['users', 'truncated'],
  ),
  'presence.join': frame('presence.join', { sessionId: { type: 'string' }, entry: presenceEntrySchema }, [
    'sessionId',
    'entry',
  ]),
  'presence.leave': frame(
    'presence.leave',
    {
      userId: { type: 'string' },
      sessionId: { type: 'string' },
      entry: { anyOf: [presenceEntrySchema, { type: 'null' }] },
    },
    ['userId', 'sessionId', 'entry'],
  ),
  error: frame('error', { id: frameId, code: { type: 'string' }, message: { type: 'string' }, details: {} }, [
    'code',
    'message',
  ]),
  pong: frame('pong', { id: frameId, serverTime: isoTime }, ['serverTime']),
} as const satisfies Record<ServerFrameType, JsonSchema>;

/** The close codes of the WebSocket protocol itself (RFC 6455) that Tessera uses. */
export const STANDARD_CLOSE_CODES = {
  /** The client closed on purpose. */
  normal: 1000,
  /** No close frame arrived (the network, or a peer dropped for not answering pings). */
  abnormal: 1006,
  /** A text frame was not valid UTF-8. */
  invalidPayload: 1007,
} as const;
