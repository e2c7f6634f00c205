import type { AuthenticationResult, UpdateMeBody } from '@tessera/protocol';
import type { Clock } from './clock.js';
import type { Credentials } from './credentials.js';
import type { FetchFunction } from './http.js';
import type { Lock } from './locks.js';
import type { RealtimeOptions, WebSocketConstructor } from './realtime-types.js';
import {
  defaultStorage,
  localStorageAdapter,
  memoryStorage,
  sessionStorageAdapter,
  type TokenStorage,
} from './storage.js';

export interface ClientOptions {
  /** The Tessera server's base URL, e.g. `https://auth.example.com`. */
  url: string;
  /** The app, as `namespace/app`. */
  app: string;
  /** The app's publishable key (`pk_…`). Never a secret key: this runs on users' devices. */
  key: string;
  /** Where the session is kept: a {@link TokenStorage}, or `local`, `session`, `memory`. Default: localStorage where it works, else memory. */
  storage?: TokenStorage | 'local' | 'session' | 'memory';
  /** The storage key. Default `tessera:<app>`. */
  storageKey?: string;
  /** The WebSocket class for realtime; defaults to the global one. In Node.js 20 pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** The fetch function; defaults to the global one. */
  fetch?: FetchFunction;
  /** Time and timers; tests pass a manual clock. */
  clock?: Clock;
  /** How tabs or clients sharing the storage take turns rotating tokens. Default: Web Locks, else BroadcastChannel, else this realm. */
  lock?: Lock;
  /** Refresh the access token this long before it expires (ms; at most half its lifetime). Default 60,000. */
  refreshAheadMs?: number;
  /** Give up on a REST call after this long (ms); 0 waits forever. Default 30,000. */
  requestTimeoutMs?: number;
  /** Realtime reconnect and ping settings. */
  realtime?: Omit<RealtimeOptions, 'WebSocket'>;
}

/** Fields a user may change with {@link TesseraClient.updateProfile} (a password goes through `changePassword`). */
export type ProfileUpdate = Omit<UpdateMeBody, 'password' | 'oldPassword'>;

export function storageOf(option: ClientOptions['storage']): TokenStorage {
  if (option === 'local') return localStorageAdapter();
  if (option === 'session') return sessionStorageAdapter();
  if (option === 'memory') return memoryStorage();
  return option ?? defaultStorage();
}

export function resultOf(credentials: Credentials): AuthenticationResult {
  const iso = (time: number) => new Date(time).toISOString();
  return {
    accessToken: credentials.accessToken,
    reconnectToken: credentials.reconnectToken,
    authentication: {
      strategy: credentials.strategy,
      accessTokenExpiresAt: iso(credentials.accessTokenExpiresAt),
      reconnectTokenExpiresAt: iso(credentials.reconnectTokenExpiresAt),
    },
    session: {
      id: credentials.session.id,
      expiresAt: iso(credentials.session.expiresAt),
      idleExpiresAt: iso(credentials.session.idleExpiresAt),
    },
    user: credentials.user,
  };
}
