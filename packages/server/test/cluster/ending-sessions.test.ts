import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import type { AuthenticationResult, Session, User } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import { CLI_PATH, TEST_MASTER_KEY } from '../helpers/node-process.js';
import { connectWithToken, EVENT_TIMEOUT_MS, type TestClient } from '../helpers/realtime.js';
import { makeApi, type Api } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const execFileAsync = promisify(execFile);

interface ClusterApp {
  namespace: string;
  name: string;
  path: string;
  publishableKey: string;
  secretKey: string;
}

type Failure = { error: { code: string; details?: { reason?: string } } };

// Two real `tessera start` processes on one PostgreSQL schema and one Redis (issue 12).
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])(
  'ending sessions from the backend across two nodes (%s, issue 12)',
  () => {
    let cluster: TestCluster;
    let apis: [Api, Api];

    beforeAll(async () => {
      cluster = await startCluster({ nodes: 2 });
      apis = [makeApi(cluster.nodes[0]!.url), makeApi(cluster.nodes[1]!.url)];
    }, 60_000);
    afterAll(() => cluster?.close());

    /** An app of its own, so that a kill switch touches no other test. */
    async function newApp(): Promise<ClusterApp> {
      const admin = { token: cluster.credentials.adminToken };
      const namespace = `ns-${randomBytes(4).toString('hex')}`;
      expect((await apis[0]('POST', '/v1/admin/namespaces', { ...admin, body: { name: namespace } })).status).toBe(201);
      expect(
        (await apis[0]('POST', `/v1/admin/namespaces/${namespace}/apps`, { ...admin, body: { name: 'app' } })).status,
      ).toBe(201);
      const key = async (kind: string) =>
        (await apis[0]<{ key: string }>('POST', `/v1/admin/apps/${namespace}/app/keys`, { ...admin, body: { kind } }))
          .body.key;
      return {
        namespace,
        name: 'app',
        path: `/v1/apps/${namespace}/app`,
        publishableKey: await key('publishable'),
        secretKey: await key('secret'),
      };
    }

    /** A user logged in twice, with a socket on node A for the first session and one on node B for the second. */
    async function userOnBothNodes(
      app: ClusterApp,
    ): Promise<{ user: User; logins: AuthenticationResult[]; sockets: TestClient[] }> {
      const email = uniqueEmail('both-nodes');
      const user = (
        await apis[0]<User>('POST', `${app.path}/users`, {
          key: app.publishableKey,
          body: { email, password: PASSWORD },
        })
      ).body;
      const logIn = async (api: Api) =>
        (
          await api<AuthenticationResult>('POST', `${app.path}/authentication`, {
            key: app.publishableKey,
            body: { strategy: 'local', email, password: PASSWORD },
          })
        ).body;
      const logins = [await logIn(apis[0]), await logIn(apis[1])];
      const sockets = [
        await connectWithToken(cluster.nodes[0]!, logins[0]!.accessToken, app),
        await connectWithToken(cluster.nodes[1]!, logins[1]!.accessToken, app),
      ];
      // Each node has cached both sessions: the ends must reach those caches too.
      for (const api of apis)
        for (const login of logins)
          expect((await api('GET', `${app.path}/me`, { token: login.accessToken })).status).toBe(200);
      return { user, logins, sockets };
    }

    /** Every node answers 401 session_revoked with `reason` for each token. */
    async function expectRefusedEverywhere(
      app: ClusterApp,
      logins: AuthenticationResult[],
      reason: string,
    ): Promise<void> {
      for (const api of apis) {
        for (const login of logins) {
          const answer = await api<Failure>('GET', `${app.path}/me`, { token: login.accessToken });
          expect(answer.status).toBe(401);
          expect(answer.body.error).toMatchObject({ code: 'session_revoked', details: { reason } });
        }
      }
    }

    it("counts a session's sockets on every node when the secret key lists a user's sessions", async () => {
      const app = await newApp();
      const { user, logins, sockets } = await userOnBothNodes(app);
      const expected = { [logins[0]!.session.id]: 1, [logins[1]!.session.id]: 1 };
      for (const api of apis) {
        // The other node's part arrives over the bus: wait for it, bounded, rather than race it.
        const deadline = Date.now() + EVENT_TIMEOUT_MS;
        let counts: Record<string, number> = {};
        while (Date.now() < deadline) {
          const listed = await api<{ items: Session[] }>('GET', `${app.path}/users/${user.id}/sessions`, {
            key: app.secretKey,
          });
          counts = Object.fromEntries(listed.body.items.map((session) => [session.id, session.connections]));
          if (isDeepStrictEqual(counts, expected)) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(counts).toEqual(expected);
      }
      await Promise.all(sockets.map((socket) => socket.close()));
    });

    it("closes the user's sockets on both nodes when the secret key ends its sessions through one", async () => {
      const app = await newApp();
      const { user, logins, sockets } = await userOnBothNodes(app);
      const ended = await apis[1]<{ revoked: number }>('DELETE', `${app.path}/users/${user.id}/sessions`, {
        key: app.secretKey,
      });
      expect(ended.body).toEqual({ revoked: 2 });
      for (const socket of sockets)
        expect(await socket.waitClosed()).toMatchObject({
          error: 'session_revoked',
          reason: 'session_revoked:revoked',
        });
      await expectRefusedEverywhere(app, logins, 'revoked');
    });

    it('closes the sockets on both nodes when the user logs out everywhere through one', async () => {
      const app = await newApp();
      const { logins, sockets } = await userOnBothNodes(app);
      expect((await apis[0]('DELETE', `${app.path}/me/sessions`, { token: logins[1]!.accessToken })).status).toBe(200);
      for (const socket of sockets)
        expect(await socket.waitClosed()).toMatchObject({ error: 'session_revoked', reason: 'session_revoked:logout' });
      await expectRefusedEverywhere(app, logins, 'logout');
    });

    it("kill switch through the admin API of one node: the app's sockets close on both, its sessions are refused on both, other apps keep theirs", async () => {
      const app = await newApp();
      const other = await newApp();
      const { logins, sockets } = await userOnBothNodes(app);
      const bystander = await userOnBothNodes(other);
      const cut = await apis[1]<{ revoked: number }>(
        'POST',
        `/v1/admin/apps/${app.namespace}/${app.name}/sessions/revoke-before`,
        { token: cluster.credentials.adminToken, body: {} },
      );
      expect(cut.status).toBe(200);
      expect(cut.body.revoked).toBe(2);
      for (const socket of sockets)
        expect(await socket.waitClosed()).toMatchObject({
          error: 'session_revoked',
          reason: 'session_revoked:revoked_before',
        });
      await expectRefusedEverywhere(app, logins, 'revoked_before');
      for (const api of apis)
        for (const login of bystander.logins)
          expect((await api('GET', `${other.path}/me`, { token: login.accessToken })).status).toBe(200);
      expect(bystander.sockets.every((socket) => socket.isOpen)).toBe(true);
      await Promise.all(bystander.sockets.map((socket) => socket.close()));
    });

    it('kill switch from the CLI: with Redis, both running nodes close the sockets at once', async () => {
      const app = await newApp();
      const { logins, sockets } = await userOnBothNodes(app);
      const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
      try {
        const { stdout } = await execFileAsync(
          process.execPath,
          [CLI_PATH, 'sessions', 'revoke-before', `${app.namespace}/${app.name}`],
          {
            env: {
              PATH: process.env.PATH,
              TESSERA_DATABASE_URL: cluster.databaseUrl,
              TESSERA_REDIS_URL: cluster.redisUrl,
              TESSERA_REDIS_KEY_PREFIX: cluster.redisKeyPrefix,
              TESSERA_MASTER_KEY: TEST_MASTER_KEY,
              TESSERA_DATA_DIR: dataDir,
            },
            timeout: 30_000,
          },
        );
        expect(stdout).toMatch(/^2 sessions ended; sessions of .* started before .* are refused from now on$/m);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      for (const socket of sockets)
        expect(await socket.waitClosed()).toMatchObject({
          error: 'session_revoked',
          reason: 'session_revoked:revoked_before',
        });
      await expectRefusedEverywhere(app, logins, 'revoked_before');
    });
  },
);
