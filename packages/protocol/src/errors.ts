/**
 * The one registry of Tessera's error codes.
 *
 * Every error a client can meet, over REST or over the realtime socket, carries one of
 * these codes. The registry maps each code to its HTTP status, the WebSocket close code
 * used when the error ends a realtime connection, and whether a client may retry.
 *
 * Codes are stable: a code is never renamed, and a retired code is never reused.
 * `docs/errors.md` is checked against this table by a test.
 */

/** Close codes in 4000..4099 mean "reconnect allowed"; 4100..4199 mean "do not reconnect". */
export const CLOSE_CODE_RANGES = {
  reconnectAllowed: { from: 4000, to: 4099 },
  doNotReconnect: { from: 4100, to: 4199 },
} as const;

export interface ErrorDefinition {
  /** HTTP status code answered over REST. */
  readonly status: number;
  /** Human-readable default message; a response may say more in `details`. */
  readonly message: string;
  /** WebSocket close code when this error ends a realtime connection. */
  readonly closeCode: number;
  /** Whether the same request may succeed when retried later, unchanged. */
  readonly retryable: boolean;
}

export const ERROR_CODES = {
  // 400 — the request itself is wrong
  invalid_request: {
    status: 400,
    message: 'The request does not match the expected schema.',
    closeCode: 4100,
    retryable: false,
  },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.', closeCode: 4101, retryable: false },
  unknown_strategy: { status: 400, message: 'No such login strategy.', closeCode: 4102, retryable: false },
  weak_password: {
    status: 400,
    message: 'The password does not meet the password policy.',
    closeCode: 4103,
    retryable: false,
  },

  // 401 — who are you?
  missing_credentials: { status: 401, message: 'This call needs credentials.', closeCode: 4110, retryable: false },
  invalid_credentials: {
    status: 401,
    message: 'The username, email or password is not correct.',
    closeCode: 4111,
    retryable: false,
  },
  invalid_api_key: {
    status: 401,
    message: 'The API key is not valid for this app.',
    closeCode: 4112,
    retryable: false,
  },
  invalid_token: { status: 401, message: 'The token is not valid.', closeCode: 4113, retryable: false },
  token_expired: {
    status: 401,
    message: 'The access token has expired; refresh it.',
    closeCode: 4000,
    retryable: true,
  },
  session_expired: {
    status: 401,
    message: 'The session has expired; log in again.',
    closeCode: 4114,
    retryable: false,
  },
  session_revoked: { status: 401, message: 'The session has been ended.', closeCode: 4115, retryable: false },
  user_disabled: { status: 401, message: 'The user is disabled.', closeCode: 4116, retryable: false },
  reconnect_token_reused: {
    status: 401,
    message: 'The reconnect token was already used; the session has been ended.',
    closeCode: 4117,
    retryable: false,
  },
  invalid_admin_token: { status: 401, message: 'The admin token is not valid.', closeCode: 4118, retryable: false },
  idp_rejected: {
    status: 401,
    message: "The app's identity provider did not accept the token.",
    closeCode: 4119,
    retryable: false,
  },
  token_replayed: {
    status: 401,
    message: 'This token was already used once and is single use.',
    closeCode: 4120,
    retryable: false,
  },
  user_ended: {
    status: 401,
    message: 'This temporary user has ended; log in again to get a new one.',
    closeCode: 4121,
    retryable: false,
  },

  // 403 — you may not
  forbidden: { status: 403, message: 'These credentials may not make this call.', closeCode: 4130, retryable: false },
  wrong_password: { status: 403, message: 'The current password is not correct.', closeCode: 4131, retryable: false },
  signup_disabled: {
    status: 403,
    message: 'Public signup is disabled for this app.',
    closeCode: 4132,
    retryable: false,
  },
  strategy_disabled: {
    status: 403,
    message: 'This login strategy is not enabled for this app.',
    closeCode: 4133,
    retryable: false,
  },
  user_not_provisioned: {
    status: 403,
    message: 'No user matches this identity, and this app does not create users on first login.',
    closeCode: 4134,
    retryable: false,
  },
  origin_not_allowed: {
    status: 403,
    message:
      "This app does not accept calls from pages of this origin; its operator lists the origins it accepts in the app's allowedOrigins setting.",
    closeCode: 4135,
    retryable: false,
  },
  insufficient_scope: {
    status: 403,
    message: 'This secret key lacks the scope this call needs.',
    closeCode: 4136,
    retryable: false,
  },

  // 404, 405, 409, 413, 415
  app_not_found: { status: 404, message: 'No such app.', closeCode: 4140, retryable: false },
  namespace_not_found: { status: 404, message: 'No such namespace.', closeCode: 4141, retryable: false },
  user_not_found: { status: 404, message: 'No such user.', closeCode: 4142, retryable: false },
  session_not_found: { status: 404, message: 'No such session.', closeCode: 4143, retryable: false },
  key_not_found: { status: 404, message: 'No such key.', closeCode: 4144, retryable: false },
  route_not_found: { status: 404, message: 'No such route.', closeCode: 4145, retryable: false },
  method_not_allowed: { status: 405, message: 'This method is not allowed here.', closeCode: 4146, retryable: false },
  token_not_found: { status: 404, message: 'No such auth token.', closeCode: 4147, retryable: false },
  user_exists: {
    status: 409,
    message: 'A user with this username or email already exists.',
    closeCode: 4150,
    retryable: false,
  },
  namespace_exists: {
    status: 409,
    message: 'A namespace with this name already exists.',
    closeCode: 4151,
    retryable: false,
  },
  app_exists: {
    status: 409,
    message: 'An app with this name already exists in the namespace.',
    closeCode: 4152,
    retryable: false,
  },
  not_anonymous: {
    status: 409,
    message: 'Only an anonymous user can be upgraded to a registered one.',
    closeCode: 4154,
    retryable: false,
  },
  auth_token_limit: {
    status: 409,
    message: 'This user already has as many active auth tokens as allowed; revoke one first.',
    closeCode: 4157,
    retryable: false,
  },
  payload_too_large: { status: 413, message: 'The request body is too large.', closeCode: 4009, retryable: false },
  unsupported_media_type: {
    status: 415,
    message: 'The request body must be application/json.',
    closeCode: 4153,
    retryable: false,
  },

  // 429, 5xx — try again later
  rate_limited: { status: 429, message: 'Too many requests; retry later.', closeCode: 4008, retryable: true },
  internal_error: { status: 500, message: 'Something went wrong on the server.', closeCode: 4011, retryable: true },
  overloaded: { status: 503, message: 'The server is busy; retry later.', closeCode: 4013, retryable: true },
  unavailable: {
    status: 503,
    message: 'A backing service is unavailable; retry later.',
    closeCode: 4014,
    retryable: true,
  },
  idp_unreachable: {
    status: 502,
    message: "The app's identity provider could not be reached or gave no usable answer.",
    closeCode: 4015,
    retryable: true,
  },

  // Realtime connections: why the server closed a socket (see docs/realtime.md)
  authentication_timeout: {
    status: 401,
    message: 'No authentication arrived in time; reconnect and authenticate first.',
    closeCode: 4016,
    retryable: true,
  },
  server_shutdown: {
    status: 503,
    message: 'The server is shutting down; reconnect.',
    closeCode: 4017,
    retryable: true,
  },
  slow_consumer: {
    status: 503,
    message: 'The connection fell too far behind in reading its messages; reconnect.',
    closeCode: 4018,
    retryable: true,
  },
  too_many_event_streams: {
    status: 429,
    message: 'This app has as many event streams open on this server as it allows; close one, or retry later.',
    closeCode: 4019,
    retryable: true,
  },
  too_many_connections: {
    status: 429,
    message: 'This user has as many realtime connections as the app allows; close one first.',
    closeCode: 4160,
    retryable: false,
  },
  frame_too_large: {
    status: 413,
    message: 'The frame is larger than the server accepts.',
    closeCode: 4161,
    retryable: false,
  },
  identity_mismatch: {
    status: 403,
    message: "The credentials name another user or app than the connection's.",
    closeCode: 4162,
    retryable: false,
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Whether a realtime close code allows the client to reconnect. */
export function closeCodeAllowsReconnect(closeCode: number): boolean {
  const { from, to } = CLOSE_CODE_RANGES.reconnectAllowed;
  return closeCode >= from && closeCode <= to;
}
