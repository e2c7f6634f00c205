/**
 * One small adapter per transport, so that the behaviour table runs the same login, refresh,
 * expiry and revocation cases over REST and over the realtime socket. An outcome is 'ok' or
 * the error code the transport reports: REST in its error body, the socket in its close code
 * (or in an error frame, for a refresh that does not close).
 */
import type { AuthenticatedFrame, AuthenticationResult, RefreshedFrame } from '@tessera/protocol';
import type { TestApp } from '../helpers/apps.js';
import { connect, EVENT_TIMEOUT_MS, type TestClient } from '../helpers/realtime.js';
import type { TestServer } from '../helpers/server.js';

export type Outcome = string;

/** A client logged in over one transport. */
export interface Holder {
  readonly userId: string;
  readonly sessionId: string;
  readonly accessToken: string;
  readonly reconnectToken: string;
  /**
   * Uses the credentials once more: REST calls GET /me; the socket is either closed (its code)
   * or answers a ping. When a close is expected the socket waits for it, since a deadline or
   * a revocation closes it on its own time.
   */
  probe(expected: Outcome): Promise<Outcome>;
  /** Continues with a reconnect token (the holder's own by default). */
  refresh(reconnectToken?: string): Promise<Outcome>;
  dispose(): Promise<void>;
}

export interface Transport {
  readonly name: 'rest' | 'socket';
  /** Logs in with `body`; `key` null sends no app key. */
  login(
    server: TestServer,
    app: TestApp,
    body: Record<string, unknown>,
    key?: string | null,
  ): Promise<Holder | Outcome>;
}

interface Credentials {
  userId: string;
  sessionId: string;
  accessToken: string;
  reconnectToken: string;
}

const errorCode = (body: unknown): Outcome =>
  (body as { error?: { code?: string } }).error?.code ?? 'unexpected answer';

export const rest: Transport = {
  name: 'rest',
  async login(server, app, body, key = app.publishableKey) {
    const response = await server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
      body,
      ...(key === null ? {} : { key }),
    });
    if (response.status !== 201) return errorCode(response.body);
    const current: Credentials = {
      userId: response.body.user.id,
      sessionId: response.body.session.id,
      accessToken: response.body.accessToken,
      reconnectToken: response.body.reconnectToken,
    };
    return {
      get userId() {
        return current.userId;
      },
      get sessionId() {
        return current.sessionId;
      },
      get accessToken() {
        return current.accessToken;
      },
      get reconnectToken() {
        return current.reconnectToken;
      },
      async probe() {
        const me = await server.api('GET', `${app.path}/me`, { token: current.accessToken });
        return me.status === 200 ? 'ok' : errorCode(me.body);
      },
      async refresh(reconnectToken = current.reconnectToken) {
        const next = await server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
          key: app.publishableKey,
          body: { strategy: 'reconnect', token: reconnectToken },
        });
        if (next.status !== 201) return errorCode(next.body);
        Object.assign(current, {
          sessionId: next.body.session.id,
          accessToken: next.body.accessToken,
          reconnectToken: next.body.reconnectToken,
        });
        return 'ok';
      },
      async dispose() {},
    };
  },
};

export const socket: Transport = {
  name: 'socket',
  async login(server, app, body, key = app.publishableKey) {
    const client = await connect(server, { app, ...(key === null ? {} : { key }) });
    const answer = await firstOf(client, client.request<AuthenticatedFrame>({ type: 'authenticate', ...body }));
    if (typeof answer === 'string') return answer;
    if (answer.type !== 'authenticated') return (answer as { code?: string }).code ?? 'unexpected answer';
    const current: Credentials = {
      userId: answer.user.id,
      sessionId: answer.session.id,
      accessToken: answer.accessToken!,
      reconnectToken: answer.reconnectToken!,
    };
    return {
      get userId() {
        return current.userId;
      },
      get sessionId() {
        return current.sessionId;
      },
      get accessToken() {
        return current.accessToken;
      },
      get reconnectToken() {
        return current.reconnectToken;
      },
      async probe(expected) {
        if (expected !== 'ok') {
          const closed = await Promise.race([
            client.closed,
            new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EVENT_TIMEOUT_MS).unref()),
          ]);
          return closed === undefined ? 'still open' : (closed.error ?? `close ${closed.code}`);
        }
        const pong = await firstOf(client, client.request({ type: 'ping' }));
        return typeof pong === 'string' ? pong : pong.type === 'pong' ? 'ok' : 'unexpected answer';
      },
      async refresh(reconnectToken = current.reconnectToken) {
        const answer = await firstOf(client, client.request<RefreshedFrame>({ type: 'refresh', reconnectToken }));
        if (typeof answer === 'string') return answer;
        if (answer.type !== 'refreshed') return (answer as { code?: string }).code ?? 'unexpected answer';
        Object.assign(current, {
          sessionId: answer.session.id,
          accessToken: answer.accessToken,
          reconnectToken: answer.reconnectToken,
        });
        return 'ok';
      },
      dispose: () => client.close(),
    };
  },
};

/** The answer frame, or the close's error code when the socket closes first. */
async function firstOf<T>(client: TestClient, answer: Promise<T>): Promise<T | Outcome> {
  if (!client.isOpen) return (await client.closed).error ?? 'closed';
  const closed = client.closed.then((close) => close.error ?? `close ${close.code}`);
  // A request on a socket that closes rejects; the close is the answer then.
  return Promise.race([answer.catch(() => closed), closed]);
}

export const transports: Transport[] = [rest, socket];
