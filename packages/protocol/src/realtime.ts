/**
 * The realtime protocol: the frames a client and the server exchange over the WebSocket at
 * `/v1/apps/{namespace}/{app}/realtime`. Every frame is one JSON object with a `type`; a client
 * frame may carry an `id`, which the server echoes in the frame that answers it.
 *
 * Each frame has a TypeScript type here and a JSON Schema in ./realtime-schemas.ts. This module
 * has no runtime dependency, so that a client bundle importing its constants stays small.
 */
import type { AuthenticationBody } from './login-bodies.js';
import type { Session, User, UserKind } from './rest.js';

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

/** The close codes of the WebSocket protocol itself (RFC 6455) that Tessera uses. */
export const STANDARD_CLOSE_CODES = {
  /** The client closed on purpose. */
  normal: 1000,
  /** No close frame arrived (the network, or a peer dropped for not answering pings). */
  abnormal: 1006,
  /** A text frame was not valid UTF-8. */
  invalidPayload: 1007,
} as const;
