/**
 * JSON Schemas of the realtime frames (./realtime.ts has their types), so that a server, a client
 * or a test can validate frames with any JSON Schema validator (draft 2020-12 subset, no `$ref`).
 * A frame that carries a user or a session uses the REST API's schema of it.
 */
import type { ClientFrameType, ServerFrameType } from './realtime.js';
import { SessionSummarySchema, UserKindSchema, UserSchema } from './rest.js';
import { Timestamp } from './schema.js';

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
const isoTime: JsonSchema = { ...Timestamp };
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

const userSchema: JsonSchema = { ...UserSchema };
const sessionSchema: JsonSchema = { ...SessionSummarySchema, additionalProperties: false };
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
    kind: UserKindSchema,
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
