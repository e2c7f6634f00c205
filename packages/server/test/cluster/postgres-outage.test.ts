import { REALTIME_SUBPROTOCOL, type AuthenticationResult, type User } from '@tessera/protocol';
import pg from 'pg';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '../helpers/backends.js';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import type { NodeProcess } from '../helpers/node-process.js';
import { errorOfCloseCode, withTimeout } from '../helpers/realtime.js';
import { expectUnavailable, waitUntilReady } from '../helpers/outage.js';
import { makeApi, type Api } from '../helpers/server.js';
import { endpointOf, TcpProxy } from '../helpers/tcp-proxy.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';
type ErrorBody = { error: { code: string } };

// Issue 6: PostgreSQL unreachable → 503 with Retry-After, no token issued, no half-written rows,
// recovery without restart. One real `tessera start` process whose PostgreSQL link runs through a
// TCP relay the test cuts (every connection dropped, new ones refused) and mends.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])('PostgreSQL unreachable (%s)', () => {
  let link: TcpProxy;
  let cluster: TestCluster;
  let node: NodeProcess;
  let api: Api;
  let db: pg.Client;

  beforeAll(async () => {
    link = new TcpProxy(() => [endpointOf(postgresUrl!)]);
    await link.start();
    cluster = await startCluster({
      nodes: 1,
      databaseUrlForNodes: (url) => {
        const throughLink = new URL(url);
        throughLink.host = `127.0.0.1:${link.port}`;
        return throughLink.toString();
      },
    });
    node = cluster.nodes[0]!;
    api = makeApi(node.url);
    // The test reads the rows straight from PostgreSQL, not through the link.
    const direct = new URL(cluster.databaseUrl);
    const schema = direct.searchParams.get('schema')!;
    direct.searchParams.delete('schema');
    db = new pg.Client({ connectionString: direct.toString(), options: `-c search_path=${schema}` });
    await db.connect();
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await cluster?.close();
    await link?.close();
  });

  const key = () => cluster.credentials.publishableKey;

  async function signUp(): Promise<string> {
    const email = uniqueEmail('outage');
    const signup = await api<User>('POST', `${APP}/users`, { key: key(), body: { email, password: PASSWORD } });
    expect(signup.status).toBe(201);
    return email;
  }

  const logIn = (email: string) =>
    api<AuthenticationResult & ErrorBody>('POST', `${APP}/authentication`, {
      key: key(),
      body: { strategy: 'local', email, password: PASSWORD },
    });

  async function count(query: string): Promise<number> {
    const { rows } = await db.query<{ n: string }>(query);
    return Number(rows[0]!.n);
  }

  /** Sessions without any reconnect token: a login that wrote half of its rows. */
  const halfWritten = () =>
    count(
      'select count(*) as n from sessions s where not exists (select 1 from reconnect_tokens r where r.session_id = s.id)',
    );

  /** A socket authenticated at the upgrade with `token`: how the server turns it away. */
  function realtimeRefusal(token: string): Promise<string | undefined> {
    const ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}${APP}/realtime`, [REALTIME_SUBPROTOCOL], {
      headers: { authorization: `Bearer ${token}` },
    });
    ws.on('error', () => undefined);
    return withTimeout(
      new Promise((resolve) => {
        // Refused at the upgrade (the app had to be read), or accepted and closed when the session could not be.
        ws.once('unexpected-response', (_request, response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () =>
            resolve(
              response.statusCode === 503
                ? (JSON.parse(text) as ErrorBody).error.code
                : `status ${response.statusCode}`,
            ),
          );
        });
        ws.once('close', (code: number) => resolve(errorOfCloseCode(code)));
      }),
      10_000,
      'the realtime refusal',
    );
  }

  it('answers 503 unavailable with Retry-After and issues no token while PostgreSQL is cut, then recovers without a restart', async () => {
    const email = await signUp();
    expect((await logIn(email)).status).toBe(201);
    // A token this node has never checked: no cached view of its session can answer for it.
    const unseen = await logIn(email);
    expect(unseen.status).toBe(201);
    const sessionsBefore = await count('select count(*) as n from sessions');

    link.cut();
    try {
      expectUnavailable(await logIn(email));
      expectUnavailable(
        await api('POST', `${APP}/users`, { key: key(), body: { email: uniqueEmail('outage'), password: PASSWORD } }),
      );
      expectUnavailable(await api('GET', `${APP}/me`, { token: unseen.body.accessToken }));
      expectUnavailable(await api('GET', '/readyz'));
      expect((await api('GET', '/healthz')).status).toBe(200);
      expect(await realtimeRefusal(unseen.body.accessToken)).toBe('unavailable');
    } finally {
      link.restore();
    }

    await waitUntilReady(api, node);
    const after = await logIn(email);
    expect(after.status).toBe(201);
    expect((await api('GET', `${APP}/me`, { token: unseen.body.accessToken })).status).toBe(200);
    // Same process all along; the failed logins and signup wrote nothing.
    expect(node.child.exitCode).toBeNull();
    expect(await count('select count(*) as n from sessions')).toBe(sessionsBefore + 1);
    expect(await halfWritten()).toBe(0);
  }, 60_000);

  it('leaves no session behind when the link is cut in the middle of a login, after the session row was sent', async () => {
    const email = await signUp();
    const sessionsOfUser = () =>
      count(`select count(*) as n from sessions s join users u on u.id = s.user_id where u.email = '${email}'`);
    // The login's session insert reaches PostgreSQL; the link dies as its reconnect token is sent.
    const cut = link.cutWhenClientSends((chunk) => chunk.includes('insert into "reconnect_tokens"'));
    const refused = await logIn(email);
    await cut;
    link.restore();
    expectUnavailable(refused);

    await waitUntilReady(api, node);
    expect(await sessionsOfUser()).toBe(0);
    expect(await halfWritten()).toBe(0);
    expect((await logIn(email)).status).toBe(201);
    expect(await sessionsOfUser()).toBe(1);
  }, 60_000);

  it('leaves no session without its reconnect token when PostgreSQL is cut in the middle of a burst of logins', async () => {
    const emails = await Promise.all(Array.from({ length: 4 }, () => signUp()));
    const attempts = Array.from({ length: 40 }, (_, index) => logIn(emails[index % emails.length]!));
    // Cut as soon as the first login is answered: the others are at every stage by then, some inside their transaction.
    await Promise.race(attempts);
    link.cut();
    const answers = await Promise.all(attempts);
    link.restore();
    expect(node.child.exitCode).toBeNull();

    const issued = answers.filter((answer) => answer.status === 201);
    for (const answer of answers) {
      if (answer.status !== 201) expectUnavailable(answer);
    }
    expect(issued.length).toBeGreaterThan(0);
    await waitUntilReady(api, node);

    expect(await halfWritten()).toBe(0);
    // Every session a client was told about exists, with the reconnect token it was given.
    for (const { body } of issued) {
      expect(
        await count(
          `select count(*) as n from reconnect_tokens where session_id = '${body.session.id}' and used_at is null`,
        ),
      ).toBe(1);
    }
    // A commit whose answer the cut swallowed may leave a whole session no client holds; never more than one per login.
    const burstSessions = await count(
      `select count(*) as n from sessions s join users u on u.id = s.user_id where u.email in (${emails.map((email) => `'${email}'`).join(', ')})`,
    );
    expect(burstSessions).toBeGreaterThanOrEqual(issued.length);
    expect(burstSessions).toBeLessThanOrEqual(attempts.length);
    expect((await logIn(emails[0]!)).status).toBe(201);
  }, 60_000);
});
