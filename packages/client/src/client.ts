import {
  SESSION_RESUMING_STRATEGIES,
  type AuthenticationBody,
  type AuthenticationResult,
  type Session,
  type SignupBody,
  type UpgradeBody,
  type User,
} from '@tessera/protocol';
import { systemClock } from './clock.js';
import { TesseraError } from './errors.js';
import type { Unsubscribe } from './events.js';
import type { ClientEvents, SessionExpiredHandler } from './events-types.js';
import { HttpTransport, type FetchFunction } from './http.js';
import { defaultLock } from './locks.js';
import { resultOf, storageOf, type ClientOptions, type ProfileUpdate } from './options.js';
import { RealtimeConnection } from './realtime.js';
import { SessionManager, unusable } from './session.js';

/** Strategies that continue the held session and supersede its tokens, rather than start a new one. */
const ROTATING: ReadonlySet<string> = new Set(SESSION_RESUMING_STRATEGIES);

/** One app's client. Make it with {@link createClient}. */
export class TesseraClient {
  /** The realtime connection (opened by `realtime.connect()`). */
  readonly realtime: RealtimeConnection;
  /** The signed-in user's sessions (one per login and device). */
  readonly sessions: {
    /**
     * The user's live sessions; the one of this client has `current: true`.
     *
     * @example
     * ```ts
     * for (const session of await client.sessions.list()) console.log(session.id, session.userAgent, session.current);
     * ```
     */
    list(): Promise<Session[]>;
    /**
     * Ends one of the user's sessions (another device: its tokens and sockets stop at once). Ending
     * this client's own session is a {@link TesseraClient.logout}.
     *
     * @example
     * ```ts
     * await client.sessions.revoke(lostPhoneSessionId);
     * ```
     */
    revoke(sessionId: string): Promise<void>;
    /**
     * Ends every session of the user but this client's ("log out my other devices"); resolves to
     * how many ended. To end this one too, use {@link TesseraClient.logoutEverywhere}.
     *
     * @example
     * ```ts
     * const ended = await client.sessions.revokeOthers();
     * console.log(`${ended} other sessions ended`);
     * ```
     */
    revokeOthers(): Promise<number>;
  };
  private readonly http: HttpTransport;
  private readonly session: SessionManager;

  constructor(private readonly options: ClientOptions) {
    const match = /^([^/]+)\/([^/]+)$/.exec(options.app);
    if (match === null) throw new TypeError(`app must be "namespace/app", not ${JSON.stringify(options.app)}`);
    if (!/^https?:\/\//.test(options.url))
      throw new TypeError(`url must be an http(s) URL, not ${JSON.stringify(options.url)}`);
    const base = `${options.url.replace(/\/+$/, '')}/v1/apps/${encodeURIComponent(match[1]!)}/${encodeURIComponent(match[2]!)}`;
    const clock = options.clock ?? systemClock;
    const fetch: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.http = new HttpTransport(base, fetch, options.requestTimeoutMs ?? 30_000);
    this.session = new SessionManager({
      http: this.http,
      key: options.key,
      storage: storageOf(options.storage),
      storageKey: options.storageKey ?? `tessera:${options.app}`,
      lock: options.lock ?? defaultLock(),
      clock,
      refreshAheadMs: options.refreshAheadMs ?? 60_000,
    });
    const realtimeUrl = `${base.replace(/^http/, 'ws')}/realtime?key=${encodeURIComponent(options.key)}`;
    this.realtime = new RealtimeConnection(this.session, realtimeUrl, clock, {
      ...options.realtime,
      ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
    });
    this.sessions = {
      list: () =>
        this.session.authorized(
          async (token) => (await this.http.request<{ items: Session[] }>('GET', '/me/sessions', { token })).items,
        ),
      revoke: async (sessionId) => {
        if ((await this.session.current())?.session.id === sessionId) return this.logout();
        await this.session.authorized((token) =>
          this.http.request<null>('DELETE', `/me/sessions/${encodeURIComponent(sessionId)}`, { token }),
        );
      },
      revokeOthers: () =>
        this.session.authorized(
          async (token) =>
            (await this.http.request<{ revoked: number }>('DELETE', '/me/sessions?except=current', { token })).revoked,
        ),
    };
  }

  /**
   * Logs in with a username or an email (anything with an `@`) and a password.
   *
   * @example
   * ```ts
   * const { user } = await client.connect('ada@example.com', 'correct horse battery staple');
   * ```
   */
  connect(usernameOrEmail: string, password: string): Promise<AuthenticationResult> {
    const who = usernameOrEmail.includes('@') ? { email: usernameOrEmail } : { username: usernameOrEmail };
    return this.authenticate({ strategy: 'local', ...who, password });
  }

  /**
   * Logs in as a new anonymous user (the app must enable `anonymous`). The user ends when its
   * last realtime connection closes; a later login makes a new one.
   *
   * @example
   * ```ts
   * await client.connectAnonymously('Superman');
   * ```
   */
  connectAnonymously(displayName?: string): Promise<AuthenticationResult> {
    return this.authenticate(
      displayName === undefined ? { strategy: 'anonymous' } : { strategy: 'anonymous', displayName },
    );
  }

  /**
   * Logs in as a new named guest (the app must enable `guest`).
   *
   * @example
   * ```ts
   * await client.connectAsGuest('Awesome Smith');
   * ```
   */
  connectAsGuest(fullName: string): Promise<AuthenticationResult> {
    return this.authenticate({ strategy: 'guest', fullName });
  }

  /**
   * Logs in with a JWT from one of the app's trusted issuers; `issuer` names the issuer when
   * the token's `iss` does not.
   *
   * @example
   * ```ts
   * const jwt = await (await fetch('/api/tessera-token')).text(); // made by your backend
   * await client.connectWithJwt(jwt);
   * ```
   */
  connectWithJwt(jwt: string, issuer?: string): Promise<AuthenticationResult> {
    return this.authenticate(
      issuer === undefined ? { strategy: 'jwt', token: jwt } : { strategy: 'jwt', token: jwt, issuer },
    );
  }

  /**
   * Logs in with an auth token your backend made for the user with the secret key (`at_…`).
   *
   * @example
   * ```ts
   * await client.connectWithAuthToken(authTokenFromMyBackend);
   * ```
   */
  connectWithAuthToken(token: string): Promise<AuthenticationResult> {
    return this.authenticate({ strategy: 'auth-token', token });
  }

  /**
   * Resumes a session with a reconnect token (`rt_…`) kept from an earlier login. The token is
   * single use: the answer holds its successor, which the client keeps. A client with storage
   * does this by itself; see {@link reAuthenticate}.
   *
   * @example
   * ```ts
   * const { reconnectToken } = await client.connect(email, password);
   * // … later, in another process:
   * await otherClient.reconnect(reconnectToken);
   * ```
   */
  reconnect(reconnectToken: string): Promise<AuthenticationResult> {
    return this.authenticate({ strategy: 'reconnect', token: reconnectToken });
  }

  /**
   * Logs in with any strategy the app has enabled, with the body `POST …/authentication`
   * takes (as Feathers' `authenticate`).
   *
   * @example
   * ```ts
   * await client.authenticate({ strategy: 'oidc', idToken, nonce });
   * ```
   */
  async authenticate(body: AuthenticationBody): Promise<AuthenticationResult> {
    let result: AuthenticationResult | undefined;
    const login = async () =>
      (result = await this.http.request<AuthenticationResult>('POST', '/authentication', {
        key: this.options.key,
        body,
      }));
    // Resuming strategies supersede the session's tokens: other tabs must not spend them meanwhile.
    if (ROTATING.has(body.strategy)) await this.session.rotate(login);
    else await this.session.establish(await login());
    return result!;
  }

  /**
   * Resumes the stored session without a password (after a reload or restart), and checks
   * with the server that it is still live: with the access token while it is valid, else by
   * spending the reconnect token. `force` always gets new tokens. Throws an
   * {@link AuthenticationError} when there is no session to resume.
   *
   * @example
   * ```ts
   * try {
   *   await client.reAuthenticate();
   * } catch {
   *   await client.connect(email, password); // show the login form instead
   * }
   * ```
   */
  async reAuthenticate(options: { force?: boolean } = {}): Promise<AuthenticationResult> {
    const held = await this.session.fresh();
    if (options.force === true) await this.session.refresh(held, true);
    await this.me(false);
    return resultOf((await this.session.current())!);
  }

  /**
   * Ends the session on the server and forgets it here (and in every tab sharing the storage).
   * The local session is forgotten even when the server cannot be reached; the error is thrown
   * after.
   *
   * @example
   * ```ts
   * await client.logout();
   * ```
   */
  async logout(): Promise<void> {
    await this.endAndForget((token) => this.http.request('DELETE', '/authentication', { token }));
  }

  /**
   * Ends every session of the signed-in user on the server (every device and browser: their
   * tokens stop working and their realtime sockets close with `session_revoked`), then forgets
   * this one here, as {@link logout} does, even when the server cannot be reached (the error is
   * thrown after). To keep this device signed in, use {@link TesseraClient.sessions}'
   * `revokeOthers()` instead.
   *
   * @example
   * ```ts
   * // "Log out everywhere", e.g. after the user lost a phone.
   * await client.logoutEverywhere();
   * ```
   */
  async logoutEverywhere(): Promise<void> {
    await this.endAndForget((token) => this.http.request('DELETE', '/me/sessions', { token }));
  }

  /** Ends the held session on the server with `end`, then forgets it here whatever the server said. */
  private async endAndForget(end: (token: string) => Promise<unknown>): Promise<void> {
    if ((await this.session.current()) === null) return;
    let failure: TesseraError | undefined;
    try {
      await this.session.authorized(end, false);
    } catch (error) {
      if (!(error instanceof TesseraError)) {
        await this.session.forget('logged_out');
        throw error;
      }
      // A session already over, or gone meanwhile, is as good as logged out.
      if (error.code !== 'missing_credentials' && !unusable(error)) failure = error;
    }
    await this.session.forget('logged_out');
    if (failure !== undefined) throw failure;
  }

  /**
   * The signed-in user as this client last knew it, or null when nobody is signed in. Reads
   * the storage, not the server (CometChat's `getLoggedinUser`); {@link fetchUser} asks the server.
   *
   * @example
   * ```ts
   * const user = await client.getLoggedInUser();
   * if (user === null) showLoginForm();
   * ```
   */
  async getLoggedInUser(): Promise<User | null> {
    return (await this.session.current())?.user ?? null;
  }

  /**
   * The signed-in user, from the server (`GET …/me`).
   *
   * @example
   * ```ts
   * const me = await client.fetchUser();
   * ```
   */
  fetchUser(): Promise<User> {
    return this.me(true);
  }

  /**
   * A valid access token for your own servers (which verify it with the app's JWKS), refreshed
   * first if it expires soon; null when nobody is signed in.
   *
   * @example
   * ```ts
   * const token = await client.getAccessToken();
   * await fetch('/api/messages', { headers: { authorization: `Bearer ${token}` } });
   * ```
   */
  async getAccessToken(): Promise<string | null> {
    if ((await this.session.current()) === null) return null;
    return (await this.session.fresh()).accessToken;
  }

  /**
   * Creates a user with a password (public signup must be on). Does not log in.
   *
   * @example
   * ```ts
   * await client.signup({ email: 'ada@example.com', password: 'correct horse battery staple', fullName: 'Ada Lovelace' });
   * await client.connect('ada@example.com', 'correct horse battery staple');
   * ```
   */
  signup(profile: SignupBody): Promise<User> {
    return this.http.request<User>('POST', '/users', { key: this.options.key, body: profile });
  }

  /**
   * Changes the signed-in user's profile (and username or email).
   *
   * @example
   * ```ts
   * const user = await client.updateProfile({ fullName: 'Ada King', tags: ['math'] });
   * ```
   */
  async updateProfile(fields: ProfileUpdate): Promise<User> {
    const user = await this.session.authorized((token) =>
      this.http.request<User>('PATCH', '/me', { token, body: fields }),
    );
    await this.session.updateUser(user);
    return user;
  }

  /**
   * Changes the password; the current one is required. Every other session of the user ends;
   * this one continues.
   *
   * @example
   * ```ts
   * await client.changePassword('correct horse battery staple', 'another horse battery staple');
   * ```
   */
  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    const user = await this.session.authorized((token) =>
      this.http.request<User>('PATCH', '/me', { token, body: { oldPassword, password: newPassword } }),
    );
    await this.session.updateUser(user);
  }

  /**
   * Turns the signed-in anonymous user into a registered one, keeping its id. The answer is a
   * new session, which the client keeps (the realtime connection moves to it).
   *
   * @example
   * ```ts
   * await client.connectAnonymously('Clark');
   * await client.upgradeAnonymous({ email: 'clark@example.com', password: 'correct horse battery staple' });
   * ```
   */
  async upgradeAnonymous(body: UpgradeBody): Promise<AuthenticationResult> {
    let result: AuthenticationResult | undefined;
    await this.session.authorized((token) =>
      this.session.rotate(
        async () => (result = await this.http.request<AuthenticationResult>('POST', '/me/upgrade', { token, body })),
      ),
    );
    return result!;
  }

  /**
   * Sets what happens when a call finds the session over (expired, revoked, user disabled):
   * the handler may log in again and call `retry()`, which runs the interrupted calls (and
   * reconnects realtime) with the new session; `fail()` lets them fail. An async handler that
   * ends without `retry()` counts as `fail()`. Without a handler, such calls fail. Returns a
   * function that removes the handler.
   *
   * @example
   * ```ts
   * client.onSessionExpired(async ({ reason, retry, fail }) => {
   *   if (reason === 'disabled') return fail();
   *   const { email, password } = await askUserToLogInAgain();
   *   await client.connect(email, password);
   *   retry();
   * });
   * ```
   */
  onSessionExpired(handler: SessionExpiredHandler): Unsubscribe {
    this.session.onExpired(handler);
    return () => this.session.onExpired(undefined);
  }

  /**
   * Listens to the client's events: `authenticated`, `refreshed`, `sessionEnded`,
   * `userUpdated`. Returns the function that stops listening.
   *
   * @example
   * ```ts
   * client.on('sessionEnded', ({ reason }) => {
   *   if (reason !== 'logged_out') showLoginForm(`Your session ended (${reason}).`);
   * });
   * ```
   */
  on<K extends keyof ClientEvents>(type: K, listener: (event: ClientEvents[K]) => void): Unsubscribe {
    return this.session.events.on(type, listener);
  }

  private async me(recover: boolean): Promise<User> {
    const user = await this.session.authorized((token) => this.http.request<User>('GET', '/me', { token }), recover);
    await this.session.updateUser(user);
    return user;
  }

  /**
   * Closes the realtime connection and stops timers and storage watching. The stored session
   * stays; a new client resumes it.
   *
   * @example
   * ```ts
   * client.dispose();
   * ```
   */
  dispose(): void {
    this.realtime.dispose();
    this.session.dispose();
  }
}

/**
 * Makes the client of one app.
 *
 * @example
 * ```ts
 * import { createClient } from '@tessera/client';
 * import WebSocket from 'ws'; // Node.js 20 only; browsers have one
 *
 * const client = createClient({ url: 'https://auth.example.com', app: 'acme/chat', key: 'pk_…', WebSocket });
 * ```
 */
export function createClient(options: ClientOptions): TesseraClient {
  return new TesseraClient(options);
}
