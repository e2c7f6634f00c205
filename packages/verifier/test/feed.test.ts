import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../server/src/lib/clock.js';
import { createApp, logInTo, type TestApp } from '../../server/test/helpers/apps.js';
import { backends } from '../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { TcpProxy, endpointOf } from '../../server/test/helpers/tcp-proxy.js';
import { PASSWORD, uniqueEmail } from '../../server/test/helpers/users.js';
import {
  createVerifier,
  VerifierError,
  type FeedOptions,
  type Revocation,
  type Verifier,
  type VerifierOptions,
} from '../src/index.js';

/** The error `promise` rejects with, which must be a VerifierError. */
async function refusal(promise: Promise<unknown>): Promise<VerifierError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(VerifierError);
  return error as VerifierError;
}

/** Waiting for something the verifier hears from the network: generous, never a race against a deadline of ours. */
const eventually = { timeout: 15_000, interval: 10 };

interface Subscriber {
  verifier: Verifier;
  /** The feed's timers: they only move when the test moves this clock. */
  timeline: ManualClock;
  errors: VerifierError[];
  heard: Revocation[];
  /** Resolves with the first revocation (heard before or after the call) that `matches`. */
  hears: (matches: (revocation: Revocation) => boolean) => Promise<Revocation>;
}

// issue 15 items 2 and 3: the verifier subscribes to Tessera's event stream, refuses ended
// sessions, tells the app's connections, and falls back on introspection while the stream is down.
describe("@tessera/verifier's revocation feed against a real Tessera", () => {
  let server: TestServer;
  let app: TestApp;
  let appName: string;
  let user: User;
  const subscribers: Verifier[] = [];
  const proxies: TcpProxy[] = [];

  const subscribe = (options: Partial<VerifierOptions> = {}, feed: FeedOptions = {}): Subscriber => {
    const timeline = new ManualClock(0);
    const errors: VerifierError[] = [];
    const heard: Revocation[] = [];
    const waiters = new Set<() => void>();
    const verifier = createVerifier({
      url: server.url,
      app: appName,
      secretKey: app.secretKey,
      now: () => server.clock.now(),
      feed: { timeline, onError: (error) => errors.push(error), ...feed },
      ...options,
    });
    subscribers.push(verifier);
    verifier.onRevoked((revocation) => {
      heard.push(revocation);
      for (const wake of waiters) wake();
    });
    const hears = (matches: (revocation: Revocation) => boolean) =>
      new Promise<Revocation>((resolve) => {
        const check = () => {
          const found = heard.find(matches);
          if (found === undefined) return;
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    return { verifier, timeline, errors, heard, hears };
  };
  /** A link to Tessera that a test can cut; the tokens still name Tessera's own address as issuer. */
  const link = async (): Promise<TcpProxy> => {
    const proxy = new TcpProxy(() => [endpointOf(server.url)]);
    await proxy.start();
    proxies.push(proxy);
    return proxy;
  };
  /**
   * Moves the feed's timeline a second at a time until the stream is live again: far less than
   * the 45 s of silence, so a reconnection in progress is never taken for dead.
   */
  const advanceUntilLive = ({ verifier, timeline }: Subscriber) =>
    vi.waitFor(
      () => {
        if (verifier.status !== 'live') timeline.advance(1_000);
        expect(verifier.status).toBe('live');
      },
      { timeout: 15_000, interval: 50 },
    );
  const logIn = (): Promise<AuthenticationResult> =>
    logInTo(server, app, { strategy: 'local', email: user.email, password: PASSWORD });
  const logOut = async (login: AuthenticationResult): Promise<void> => {
    const response = await server.api('DELETE', `${app.path}/authentication`, { token: login.accessToken });
    expect(response.status).toBe(200);
  };
  const newUser = async (): Promise<User> => {
    const created = await server.api<User>('POST', `${app.path}/users`, {
      key: app.secretKey,
      body: { email: uniqueEmail('feed'), password: PASSWORD },
    });
    expect(created.status).toBe(201);
    return created.body;
  };
  const logInAs = (someone: User) =>
    logInTo(server, app, { strategy: 'local', email: someone.email, password: PASSWORD });

  beforeAll(async () => {
    server = await startTestServer(backends[0]!);
    app = await createApp(server);
    appName = `${app.namespace}/${app.name}`;
    user = await newUser();
  });
  afterEach(() => {
    for (const verifier of subscribers.splice(0)) verifier.close();
  });
  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
    await server.close();
  });

  it('goes live, refuses a logged-out session as its event arrives, and tells onRevoked', async () => {
    const { verifier, hears, errors } = subscribe();
    expect(verifier.status).toBe('connecting');
    await verifier.ready();
    expect(verifier.status).toBe('live');
    const login = await logIn();
    const principal = await verifier.verify(login.accessToken);
    expect(principal.sessionId).toBe(login.session.id);

    await logOut(login);
    await expect(hears((revocation) => revocation.sessionId === login.session.id)).resolves.toEqual({
      userId: user.id,
      sessionId: login.session.id,
      code: 'session_revoked',
    });
    // The cached token is refused as well, from memory.
    await expect(refusal(verifier.verify(login.accessToken))).resolves.toMatchObject({
      code: 'session_revoked',
      status: 401,
    });
    expect(verifier.revokedCount).toBeGreaterThanOrEqual(1);
    // Another session of the same user is not concerned.
    const other = await logIn();
    await expect(verifier.verify(other.accessToken)).resolves.toMatchObject({ sessionId: other.session.id });
    expect(errors).toEqual([]);
  });

  it('refuses a session that ended before it subscribed: older tokens are checked online once', async () => {
    const ended = await logIn();
    const live = await logIn();
    await logOut(ended);
    const { verifier } = subscribe();
    await verifier.ready();
    await expect(refusal(verifier.verify(ended.accessToken))).resolves.toMatchObject({ code: 'session_revoked' });
    await expect(verifier.verify(live.accessToken)).resolves.toMatchObject({ sessionId: live.session.id });
  });

  it('asks Tessera once per session about tokens issued before it went live, and never about later ones', async () => {
    const proxy = await link();
    const { verifier } = subscribe(
      { url: proxy.url, publicUrl: server.url },
      { backoff: { initialMs: 600_000, maxMs: 600_000 } },
    );
    await verifier.ready();
    const early = await logIn();
    // Past the watermark and the 5 s of clock tolerance.
    server.clock.advance(10_000);
    const [warm, late] = [await logIn(), await logIn()];
    // Fetches the keys.
    await verifier.verify(warm.accessToken);
    // Tessera out of reach: the stream is down (within its grace period) and introspection fails.
    proxy.cut();
    await vi.waitFor(() => expect(verifier.status).toBe('down'), eventually);
    await expect(verifier.verify(late.accessToken)).resolves.toMatchObject({ sessionId: late.session.id });
    await expect(refusal(verifier.verify(early.accessToken))).resolves.toMatchObject({ code: 'unavailable' });
    proxy.restore();
    await expect(verifier.verify(early.accessToken)).resolves.toMatchObject({ sessionId: early.session.id });
    // Confirmed: its session's tokens no longer need Tessera.
    proxy.cut();
    await expect(verifier.verify(early.accessToken)).resolves.toMatchObject({ sessionId: early.session.id });
    proxy.restore();
  });

  it('resumes after the stream drops and misses nothing that happened meanwhile', async () => {
    const proxy = await link();
    const { verifier, timeline, hears, errors } = subscribe(
      { url: proxy.url, publicUrl: server.url },
      { backoff: { initialMs: 1_000, maxMs: 1_000 } },
    );
    await verifier.ready();
    const [first, second] = [await logIn(), await logIn()];
    await verifier.verify(first.accessToken);
    await verifier.verify(second.accessToken);

    proxy.cut();
    await vi.waitFor(() => expect(verifier.status).toBe('down'), eventually);
    expect(errors.at(-1)).toMatchObject({ code: 'unavailable' });
    await logOut(first);
    await logOut(second);
    proxy.restore();
    timeline.advance(1_000);
    await vi.waitFor(() => expect(verifier.status).toBe('live'), eventually);

    // Without Last-Event-ID the stream only tells what happens from now on: hearing these proves the resume.
    for (const login of [first, second]) {
      await hears((revocation) => revocation.sessionId === login.session.id);
      await expect(refusal(verifier.verify(login.accessToken))).resolves.toMatchObject({ code: 'session_revoked' });
    }
  });

  it('takes 45 s without a byte for a dead stream, and reconnects', async () => {
    const proxy = await link();
    const { verifier, timeline, errors, hears } = subscribe(
      { url: proxy.url, publicUrl: server.url },
      { backoff: { initialMs: 1_000, maxMs: 1_000 } },
    );
    await verifier.ready();
    proxy.stall();
    timeline.advance(44_999);
    expect(verifier.status).toBe('live');
    timeline.advance(1);
    await vi.waitFor(() => expect(verifier.status).toBe('down'), eventually);
    expect(errors.map((error) => error.message)).toContain('The event stream sent nothing for 45 s.');
    proxy.resume();
    timeline.advance(1_000);
    await vi.waitFor(() => expect(verifier.status).toBe('live'), eventually);
    const login = await logIn();
    await logOut(login);
    await hears((revocation) => revocation.sessionId === login.session.id);
  });

  it('checks each token online once the stream has been down past the grace period (introspect)', async () => {
    const proxy = await link();
    // The reconnection waits ten minutes of the timeline: the test decides when the stream comes back.
    const { verifier, timeline } = subscribe(
      { url: proxy.url, publicUrl: server.url },
      { graceMs: 30_000, introspectionCacheMs: 5_000, backoff: { initialMs: 600_000, maxMs: 600_000 } },
    );
    await verifier.ready();
    const [ending, staying] = [await logIn(), await logIn()];
    await verifier.verify(ending.accessToken);
    await verifier.verify(staying.accessToken);
    // The stream drops; new connections (the introspection's) go through again.
    proxy.cut();
    proxy.restore();
    await vi.waitFor(() => expect(verifier.status).toBe('down'), eventually);

    await logOut(ending);
    // Within the grace period, tokens are checked offline: the logout is not known yet.
    timeline.advance(29_999);
    await expect(verifier.verify(ending.accessToken)).resolves.toMatchObject({ sessionId: ending.session.id });
    timeline.advance(1);
    await expect(refusal(verifier.verify(ending.accessToken))).resolves.toMatchObject({ code: 'session_revoked' });
    await expect(verifier.verify(staying.accessToken)).resolves.toMatchObject({ sessionId: staying.session.id });
    // Tessera's answer is reused for a few seconds, then asked again.
    await logOut(staying);
    await expect(verifier.verify(staying.accessToken)).resolves.toMatchObject({ sessionId: staying.session.id });
    timeline.advance(5_000);
    await expect(refusal(verifier.verify(staying.accessToken))).resolves.toMatchObject({ code: 'session_revoked' });
  });

  it('refuses every token with unavailable once the stream has been down past the grace period (fail-closed)', async () => {
    const proxy = await link();
    const subscriber = subscribe(
      { url: proxy.url, publicUrl: server.url },
      { onOutage: 'fail-closed', graceMs: 30_000, backoff: { initialMs: 1_000, maxMs: 1_000 } },
    );
    const { verifier, timeline } = subscriber;
    await verifier.ready();
    const login = await logIn();
    await verifier.verify(login.accessToken);
    // Cut, and kept cut: each reconnection attempt fails.
    proxy.cut();
    await vi.waitFor(() => expect(verifier.status).toBe('down'), eventually);
    timeline.advance(29_999);
    await expect(verifier.verify(login.accessToken)).resolves.toMatchObject({ sessionId: login.session.id });
    timeline.advance(1);
    await expect(refusal(verifier.verify(login.accessToken))).resolves.toMatchObject({
      code: 'unavailable',
      status: 503,
      retryable: true,
    });
    // Back once the stream is.
    proxy.restore();
    await advanceUntilLive(subscriber);
    await expect(verifier.verify(login.accessToken)).resolves.toMatchObject({ sessionId: login.session.id });
  });

  it("refuses a disabled user's tokens (user_disabled) and a deleted user's (session_revoked)", async () => {
    const { verifier, hears } = subscribe();
    await verifier.ready();
    const [disabled, deleted] = [await newUser(), await newUser()];
    const [disabledLogin, deletedLogin] = [await logInAs(disabled), await logInAs(deleted)];
    await verifier.verify(disabledLogin.accessToken);
    await verifier.verify(deletedLogin.accessToken);

    const patched = await server.api('PATCH', `${app.path}/users/${disabled.id}`, {
      key: app.secretKey,
      body: { disabled: true },
    });
    expect(patched.status).toBe(200);
    await expect(hears((revocation) => revocation.sessionId === disabledLogin.session.id)).resolves.toEqual({
      userId: disabled.id,
      sessionId: disabledLogin.session.id,
      code: 'user_disabled',
    });
    await expect(refusal(verifier.verify(disabledLogin.accessToken))).resolves.toMatchObject({
      code: 'user_disabled',
      status: 401,
    });

    const removed = await server.api('DELETE', `${app.path}/users/${deleted.id}`, { key: app.secretKey });
    expect(removed.status).toBeLessThan(300);
    await expect(hears((revocation) => revocation.sessionId === deletedLogin.session.id)).resolves.toMatchObject({
      code: 'session_revoked',
    });
    await expect(refusal(verifier.verify(deletedLogin.accessToken))).resolves.toMatchObject({
      code: 'session_revoked',
    });
  });

  it('surfaces a refused key as a configuration error and retries only slowly', async () => {
    const scoped = await server.api<{ key: string }>('POST', `/v1/admin/apps/${appName}/keys`, {
      token: server.adminToken,
      body: { kind: 'secret', scopes: ['users:read'] },
    });
    expect(scoped.status).toBe(201);
    for (const [secretKey, status] of [
      [scoped.body.key, 403],
      ['sk_madeup.notakey', 401],
    ] as const) {
      const { verifier, timeline, errors } = subscribe({ secretKey }, { backoff: { initialMs: 500, maxMs: 60_000 } });
      const error = await refusal(verifier.ready());
      expect(error.status, secretKey.slice(0, 3)).toBe(status);
      expect(error.message).not.toContain(secretKey);
      expect(verifier.status).toBe('refused');
      expect(errors).toHaveLength(1);
      // No second attempt before backoff.maxMs.
      timeline.advance(59_999);
      await new Promise((resolve) => setImmediate(resolve));
      expect(errors).toHaveLength(1);
      timeline.advance(1);
      await vi.waitFor(() => expect(errors).toHaveLength(2), eventually);
    }
  });

  it('refuses a key that is not a secret key at creation', () => {
    expect(() => createVerifier({ url: server.url, app: appName, secretKey: app.publishableKey })).toThrow(
      "secretKey must be the app's secret key",
    );
  });

  it('forgets revocations once their tokens have expired', async () => {
    const { verifier, timeline, hears } = subscribe({}, { sweepIntervalMs: 30_000 });
    await verifier.ready();
    const login = await logIn();
    await logOut(login);
    await hears((revocation) => revocation.sessionId === login.session.id);
    const held = verifier.revokedCount;
    expect(held).toBeGreaterThanOrEqual(1);
    // Past the token's expiry (and the second it is rounded up to), the next sweep forgets the entry.
    server.clock.advance(Date.parse(login.authentication.accessTokenExpiresAt) - server.clock.now() + 60_000);
    timeline.advance(30_000);
    expect(verifier.revokedCount).toBe(held - 1);
  });
});
