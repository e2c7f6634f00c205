import type { AuthenticatedFrame, AuthenticationResult, ErrorFrame, RefreshedFrame } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTestsEnabled, startCluster, type TestCluster } from '../helpers/cluster.js';
import { connect, connectWithToken, type TestClient } from '../helpers/realtime.js';
import { makeApi, type Api } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

const APP = '/v1/apps/demo/chat';

interface Answer {
  reconnectToken?: string;
  accessToken?: string;
  error?: string;
}

// Issue 12: one reconnect token refreshed at the same moment through two nodes on one PostgreSQL
// (READ COMMITTED) and one Redis gets one successor, whichever node and transport each copy took.
describe.each(clusterTestsEnabled ? ['postgres+redis'] : [])(
  'refreshes of one reconnect token at once across two nodes (%s, issue 12)',
  () => {
    let cluster: TestCluster;
    let apis: Api[];

    beforeAll(async () => {
      cluster = await startCluster({ nodes: 2 });
      apis = cluster.nodes.map((node) => makeApi(node.url));
    }, 60_000);
    afterAll(() => cluster?.close());

    const key = () => cluster.credentials.publishableKey;

    async function signUpAndLogIn(): Promise<AuthenticationResult> {
      const email = uniqueEmail('refresh');
      expect((await apis[0]!('POST', `${APP}/users`, { key: key(), body: { email, password: PASSWORD } })).status).toBe(
        201,
      );
      const login = await apis[1]!<AuthenticationResult>('POST', `${APP}/authentication`, {
        key: key(),
        body: { strategy: 'local', email, password: PASSWORD },
      });
      expect(login.status).toBe(201);
      return login.body;
    }

    const overRest = async (api: Api, token: string): Promise<Answer> => {
      const response = await api<AuthenticationResult & { error?: { code: string } }>('POST', `${APP}/authentication`, {
        key: key(),
        body: { strategy: 'reconnect', token },
      });
      return {
        reconnectToken: response.body.reconnectToken,
        accessToken: response.body.accessToken,
        error: response.body.error?.code,
      };
    };

    const overFrame = async (socket: TestClient, frame: object): Promise<Answer> => {
      const answer = await socket.request<RefreshedFrame | AuthenticatedFrame | ErrorFrame>(frame);
      return answer.type === 'error'
        ? { error: answer.code }
        : { reconnectToken: answer.reconnectToken, accessToken: answer.accessToken };
    };

    function expectOneSuccessor(answers: Answer[]): string {
      expect(answers.map((answer) => answer.error)).toEqual(answers.map(() => undefined));
      const successors = new Set(answers.map((answer) => answer.reconnectToken));
      expect(successors.size).toBe(1);
      return [...successors][0]!;
    }

    it('answers 30 REST refreshes spread over both nodes with the same reconnect token, and the session lives on everywhere', async () => {
      const login = await signUpAndLogIn();
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, index) => overRest(apis[index % 2]!, login.reconnectToken)),
      );
      const successor = expectOneSuccessor(answers);
      expect(successor).not.toBe(login.reconnectToken);
      for (const api of apis)
        expect((await api('GET', `${APP}/me`, { token: answers[0]!.accessToken! })).status).toBe(200);
      // The successor works once more, on either node.
      const next = await overRest(apis[1]!, successor);
      expect(next.error).toBeUndefined();
      expect((await apis[0]!('GET', `${APP}/me`, { token: next.accessToken! })).status).toBe(200);
    });

    it('answers refresh frames, login frames and REST refreshes on both nodes at once with the same reconnect token', async () => {
      const login = await signUpAndLogIn();
      const bound = await Promise.all(
        cluster.nodes.flatMap((node) => [0, 1, 2].map(() => connectWithToken(node, login.accessToken))),
      );
      const fresh = await Promise.all(
        cluster.nodes.flatMap((node) => [0, 1, 2].map(() => connect(node, { key: key() }))),
      );
      const answers = await Promise.all([
        ...bound.map((socket) => overFrame(socket, { type: 'refresh', reconnectToken: login.reconnectToken })),
        ...fresh.map((socket) =>
          overFrame(socket, { type: 'authenticate', strategy: 'reconnect', token: login.reconnectToken }),
        ),
        ...Array.from({ length: 8 }, (_, index) => overRest(apis[index % 2]!, login.reconnectToken)),
      ]);
      const successor = expectOneSuccessor(answers);
      expect([...bound, ...fresh].every((socket) => socket.isOpen)).toBe(true);
      expect((await overFrame(bound[0]!, { type: 'refresh', reconnectToken: successor })).error).toBeUndefined();
      await Promise.all([...bound, ...fresh].map((socket) => socket.close()));
    });

    it('answers logins with one access token on both nodes at once with the same reconnect token', async () => {
      const login = await signUpAndLogIn();
      const withAccessToken = async (api: Api): Promise<Answer> => {
        const response = await api<AuthenticationResult & { error?: { code: string } }>(
          'POST',
          `${APP}/authentication`,
          { key: key(), body: { strategy: 'access-token', accessToken: login.accessToken } },
        );
        return {
          reconnectToken: response.body.reconnectToken,
          accessToken: response.body.accessToken,
          error: response.body.error?.code,
        };
      };
      const renewed = expectOneSuccessor(
        await Promise.all(Array.from({ length: 12 }, (_, index) => withAccessToken(apis[index % 2]!))),
      );
      expect((await overRest(apis[0]!, renewed)).error).toBeUndefined();
    });
  },
);
