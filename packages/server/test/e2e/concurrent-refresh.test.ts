import type { AuthenticatedFrame, AuthenticationResult, ErrorFrame, RefreshedFrame } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpaqueToken, parseOpaqueToken } from '../../src/lib/opaque-token.js';
import { backends } from '../helpers/backends.js';
import { connect, connectWithToken, type TestClient } from '../helpers/realtime.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUpAndLogIn } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
/** demo/chat's reconnectGracePeriod (the default), in ms. */
const GRACE_MS = 30_000;

interface Refreshed {
  status: number;
  reconnectToken: string | undefined;
  accessToken: string | undefined;
  error: string | undefined;
}

// Issue 12: thirty tabs (or sockets) refreshing one reconnect token at the same moment each got
// a different successor; the one kept by the "wrong" tab later ended the session as stolen.
describe.each(backends)('refreshes of one reconnect token at the same moment on $name (issue 12)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const overRest = async (token: string): Promise<Refreshed> => {
    const response = await server.api<AuthenticationResult & { error?: { code: string } }>(
      'POST',
      `${APP}/authentication`,
      {
        key: server.publishableKey,
        body: { strategy: 'reconnect', token },
      },
    );
    return {
      status: response.status,
      reconnectToken: response.body.reconnectToken,
      accessToken: response.body.accessToken,
      error: response.body.error?.code,
    };
  };

  /** A `refresh` frame on an open socket. */
  const overRefreshFrame = async (client: TestClient, token: string): Promise<Refreshed> =>
    fromFrame(await client.request<RefreshedFrame | ErrorFrame>({ type: 'refresh', reconnectToken: token }));

  /** A new socket whose first frame logs in with the reconnect strategy. */
  const overLoginFrame = async (client: TestClient, token: string): Promise<Refreshed> =>
    fromFrame(
      await client.request<AuthenticatedFrame | ErrorFrame>({ type: 'authenticate', strategy: 'reconnect', token }),
    );

  const me = async (accessToken: string) =>
    (await server.api<{ error?: { code: string; details?: unknown } }>('GET', `${APP}/me`, { token: accessToken }))
      .body;

  /** Every answer is a success carrying one and the same new reconnect token; returns it. */
  function expectOneSuccessor(answers: Refreshed[], presented: string): string {
    expect(answers.map((answer) => answer.error)).toEqual(answers.map(() => undefined));
    const successors = new Set(answers.map((answer) => answer.reconnectToken));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(successor).toMatch(/^rt_/);
    expect(successor).not.toBe(presented);
    return successor!;
  }

  it('answers 30 REST refreshes with the same reconnect token; the session lives on and the successor works once more', async () => {
    const { login } = await signUpAndLogIn(server);
    const answers = await Promise.all(Array.from({ length: 30 }, () => overRest(login.reconnectToken)));
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 201));
    const successor = expectOneSuccessor(answers, login.reconnectToken);
    // Each duplicate got an access token of its own, all for the one live session.
    for (const answer of answers) expect(await me(answer.accessToken!)).toMatchObject({ email: expect.any(String) });

    const next = await overRest(successor);
    expect(next.status).toBe(201);
    expect(next.reconnectToken).not.toBe(successor);
    expect(await me(next.accessToken!)).not.toHaveProperty('error');
  });

  it('answers refresh frames sent at once on several sockets with the same reconnect token, and keeps every socket open', async () => {
    const { login } = await signUpAndLogIn(server);
    const sockets = await Promise.all(Array.from({ length: 10 }, () => connectWithToken(server, login.accessToken)));
    const answers = await Promise.all(sockets.map((socket) => overRefreshFrame(socket, login.reconnectToken)));
    const successor = expectOneSuccessor(answers, login.reconnectToken);
    expect(sockets.every((socket) => socket.isOpen)).toBe(true);
    expect((await overRest(successor)).status).toBe(201);
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  it('answers first-frame logins with the reconnect strategy on several sockets at once with the same reconnect token', async () => {
    const { login } = await signUpAndLogIn(server);
    const sockets = await Promise.all(
      Array.from({ length: 10 }, () => connect(server, { key: server.publishableKey })),
    );
    const answers = await Promise.all(sockets.map((socket) => overLoginFrame(socket, login.reconnectToken)));
    const successor = expectOneSuccessor(answers, login.reconnectToken);
    expect(sockets.every((socket) => socket.isOpen)).toBe(true);
    expect((await overRest(successor)).status).toBe(201);
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  it('answers REST refreshes, refresh frames and login frames of one token at once with the same reconnect token', async () => {
    const { login } = await signUpAndLogIn(server);
    const bound = await Promise.all(Array.from({ length: 8 }, () => connectWithToken(server, login.accessToken)));
    const fresh = await Promise.all(Array.from({ length: 8 }, () => connect(server, { key: server.publishableKey })));
    const answers = await Promise.all([
      ...Array.from({ length: 14 }, () => overRest(login.reconnectToken)),
      ...bound.map((socket) => overRefreshFrame(socket, login.reconnectToken)),
      ...fresh.map((socket) => overLoginFrame(socket, login.reconnectToken)),
    ]);
    const successor = expectOneSuccessor(answers, login.reconnectToken);
    // The successor works over the socket as well.
    expect((await overRefreshFrame(bound[0]!, successor)).reconnectToken).toMatch(/^rt_/);
    expect([...bound, ...fresh].every((socket) => socket.isOpen)).toBe(true);
    await Promise.all([...bound, ...fresh].map((socket) => socket.close()));
  });

  it('still ends the session when the spent token comes back once the grace period is over', async () => {
    const { login } = await signUpAndLogIn(server);
    const answers = await Promise.all(Array.from({ length: 5 }, () => overRest(login.reconnectToken)));
    const successor = expectOneSuccessor(answers, login.reconnectToken);
    const socket = await connectWithToken(server, answers[0]!.accessToken!);
    server.clock.advance(GRACE_MS - 1);
    expect((await overRest(login.reconnectToken)).reconnectToken).toBe(successor);
    server.clock.advance(1);
    expect(await overRest(login.reconnectToken)).toMatchObject({ status: 401, error: 'reconnect_token_reused' });
    expect(await socket.waitClosed()).toMatchObject({ code: 4117, error: 'reconnect_token_reused' });
    expect(await overRest(successor)).toMatchObject({ status: 401, error: 'session_revoked' });
    expect(await me(answers[1]!.accessToken!)).toMatchObject({
      error: { code: 'session_revoked', details: { reason: 'reconnect_token_reused' } },
    });
  });

  it('ends the session when a spent token comes back, within the grace period, after its successor was used', async () => {
    const { login } = await signUpAndLogIn(server);
    const successor = expectOneSuccessor(
      await Promise.all([overRest(login.reconnectToken), overRest(login.reconnectToken)]),
      login.reconnectToken,
    );
    const next = await overRest(successor);
    expect(next.status).toBe(201);
    expect(await overRest(login.reconnectToken)).toMatchObject({ status: 401, error: 'reconnect_token_reused' });
    expect(await me(next.accessToken!)).toMatchObject({ error: { code: 'session_revoked' } });
  });

  it('refuses a forged secret for the id of a spent or a live token, gives it no successor, and ends nothing', async () => {
    const { login } = await signUpAndLogIn(server);
    const { id } = parseOpaqueToken(login.reconnectToken)!;
    const forged = (tokenId: string) => `rt_${tokenId}.${parseOpaqueToken(createOpaqueToken('rt').token)!.secret}`;
    // Presented with the real token at the same moment, and again once it is spent.
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => overRest(login.reconnectToken)),
      ...Array.from({ length: 5 }, () => overRest(forged(id))),
    ]);
    const successor = expectOneSuccessor(answers.slice(0, 5), login.reconnectToken);
    for (const answer of [...answers.slice(5), await overRest(forged(id))]) {
      expect(answer).toMatchObject({ status: 401, error: 'invalid_token', reconnectToken: undefined });
    }
    // Nor does the successor's id with a forged secret work; the session is untouched.
    expect(await overRest(forged(parseOpaqueToken(successor)!.id))).toMatchObject({
      status: 401,
      error: 'invalid_token',
    });
    expect((await overRest(login.reconnectToken)).reconnectToken).toBe(successor);
    expect((await overRest(successor)).status).toBe(201);
  });

  it('answers logins with one access token at once (REST and first frames) with the same reconnect token while it is unused', async () => {
    const { login } = await signUpAndLogIn(server);
    const withAccessToken = async (): Promise<Refreshed> => {
      const response = await server.api<AuthenticationResult & { error?: { code: string } }>(
        'POST',
        `${APP}/authentication`,
        {
          key: server.publishableKey,
          body: { strategy: 'access-token', accessToken: login.accessToken },
        },
      );
      return {
        status: response.status,
        reconnectToken: response.body.reconnectToken,
        accessToken: response.body.accessToken,
        error: response.body.error?.code,
      };
    };
    const sockets = await Promise.all(Array.from({ length: 6 }, () => connect(server, { key: server.publishableKey })));
    const answers = await Promise.all([
      ...Array.from({ length: 8 }, withAccessToken),
      ...sockets.map(async (socket) =>
        fromFrame(
          await socket.request<AuthenticatedFrame | ErrorFrame>({
            type: 'authenticate',
            strategy: 'access-token',
            accessToken: login.accessToken,
          }),
        ),
      ),
    ]);
    const renewed = expectOneSuccessor(answers, login.reconnectToken);
    // The same access token later still gets the same one, until it is used.
    server.clock.advance(60_000);
    expect((await withAccessToken()).reconnectToken).toBe(renewed);
    const next = await overRest(renewed);
    expect(next.status).toBe(201);
    const after = await withAccessToken();
    expect(after.status).toBe(201);
    expect(after.reconnectToken).not.toBe(renewed);
    expect((await overRest(after.reconnectToken!)).status).toBe(201);
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  it('gives a token spent by an earlier version (a random successor) retried within the grace period one new successor', async () => {
    const { login } = await signUpAndLogIn(server);
    const { id: parentId } = parseOpaqueToken(login.reconnectToken)!;
    const db = server.tessera.services.store.db;
    // What an earlier version wrote when it spent the token: used, and a random successor.
    const now = server.clock.now();
    const random = createOpaqueToken('rt');
    await db.updateTable('reconnect_tokens').set({ used_at: now }).where('id', '=', parentId).execute();
    await db
      .insertInto('reconnect_tokens')
      .values({
        id: random.id,
        session_id: login.session.id,
        parent_id: parentId,
        secret_hash: random.secretHash,
        created_at: now,
        expires_at: now + 86_400_000,
        used_at: null,
        superseded_at: null,
      })
      .execute();
    server.clock.advance(1000);

    const answers = await Promise.all(Array.from({ length: 12 }, () => overRest(login.reconnectToken)));
    const successor = expectOneSuccessor(answers, login.reconnectToken);
    expect(await me(answers[0]!.accessToken!)).not.toHaveProperty('error');
    // Only the newest token works from then on, as the earlier version had it.
    expect((await overRest(successor)).status).toBe(201);
    expect(await overRest(random.token)).toMatchObject({ status: 401, error: 'reconnect_token_reused' });
  });
});

function fromFrame(frame: RefreshedFrame | AuthenticatedFrame | ErrorFrame): Refreshed {
  if (frame.type === 'error')
    return { status: 401, reconnectToken: undefined, accessToken: undefined, error: frame.code };
  return { status: 201, reconnectToken: frame.reconnectToken, accessToken: frame.accessToken, error: undefined };
}
