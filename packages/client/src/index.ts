/**
 * `@tessera/client`: the Tessera SDK for browsers and Node.js. One client per app logs users
 * in by any strategy, keeps the session in storage, refreshes tokens ahead of expiry (once at
 * a time across tabs), and keeps a realtime connection open across drops.
 */
export { createClient, TesseraClient } from './client.js';
export type { ClientOptions, ProfileUpdate } from './options.js';
export {
  AuthenticationError,
  codeOfCloseCode,
  ConflictError,
  endsSession,
  errorOfCode,
  InvalidRequestError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TesseraError,
  type ClientErrorCode,
  type TesseraErrorCode,
  type TesseraErrorInit,
} from './errors.js';
export type {
  ClientEvents,
  SessionEndedEvent,
  SessionEndReason,
  SessionExpiredContext,
  SessionExpiredHandler,
  SessionInfo,
} from './events-types.js';
export type { Unsubscribe } from './events.js';
export { localStorageAdapter, memoryStorage, sessionStorageAdapter, type TokenStorage } from './storage.js';
export { broadcastChannelLock, realmLock, webLocksLock, type BroadcastChannelLockOptions, type Lock } from './locks.js';
export { systemClock, type Cancel, type Clock } from './clock.js';
export type { FetchFunction } from './http.js';
export type { RealtimeConnection } from './realtime.js';
export type {
  OutgoingFrame,
  RealtimeEvents,
  RealtimeOptions,
  RealtimeState,
  WebSocketConstructor,
  WebSocketLike,
} from './realtime-types.js';
export type { RealtimeCloseEvent, RealtimeCloseReason } from './realtime-close.js';
export type {
  AuthenticationBody,
  AuthenticationResult,
  ErrorCode,
  Session,
  SignupBody,
  UpgradeBody,
  User,
  UserKind,
} from '@tessera/protocol';
