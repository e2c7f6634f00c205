/**
 * The behaviour suite (issue 4, item 7): one table of login, refresh, expiry and revocation
 * cases, run over REST and over the realtime socket by the adapters in ./transports.ts. Where
 * the transports answer differently on purpose, the case says so and why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';
import { transports, type Holder, type Outcome, type Transport } from './transports.js';

const HOUR = 3600;

interface Context {
  server: TestServer;
  app: TestApp;
  transport: Transport;
  email: string;
  userId: string;
  /** Logs the case's user in over the transport under test. */
  holder(): Promise<Holder>;
  login(body: Record<string, unknown>, key?: string | null): Promise<Holder | Outcome>;
  /** The same user logged in over REST: another session. */
  otherSession(): Promise<{ accessToken: string }>;
  advance(milliseconds: number): void;
  /** Waits for the server's background work (a socket's activity write). */
  settle(): Promise<void>;
}

interface Case {
  name: string;
  settings?: Record<string, unknown>;
  /** One outcome for both transports, or each its own (with `why`). */
  expected: Outcome | { rest: Outcome; socket: Outcome };
  why?: string;
  run(context: Context): Promise<Outcome>;
}

const asOutcome = (result: Holder | Outcome): Outcome => (typeof result === 'string' ? result : 'ok');

const CASES: Case[] = [
  // Login
  { name: 'a password login', expected: 'ok', run: async (c) => (await c.holder()).probe('ok') },
  {
    name: 'a wrong password',
    expected: 'invalid_credentials',
    run: async (c) => asOutcome(await c.login({ strategy: 'local', email: c.email, password: 'wrong horse' })),
  },
  {
    name: 'an unknown email',
    expected: 'invalid_credentials',
    run: async (c) => asOutcome(await c.login({ strategy: 'local', email: uniqueEmail('nobody'), password: PASSWORD })),
  },
  {
    name: 'a login without the app key',
    expected: 'missing_credentials',
    run: async (c) => asOutcome(await c.login({ strategy: 'local', email: c.email, password: PASSWORD }, null)),
  },
  {
    name: 'a body missing a field',
    expected: 'invalid_request',
    run: async (c) => asOutcome(await c.login({ strategy: 'local', email: c.email })),
  },
  {
    name: 'an unknown strategy',
    expected: 'unknown_strategy',
    run: async (c) => asOutcome(await c.login({ strategy: 'telepathy' })),
  },
  {
    name: 'a strategy the app has not enabled',
    expected: 'strategy_disabled',
    run: async (c) => asOutcome(await c.login({ strategy: 'anonymous' })),
  },
  {
    name: 'an enabled anonymous login',
    settings: { strategies: { anonymous: { enabled: true } } },
    expected: 'ok',
    run: async (c) => {
      const holder = await c.login({ strategy: 'anonymous', displayName: 'Visitor' });
      return typeof holder === 'string' ? holder : holder.probe('ok');
    },
  },
  {
    // issue 12: the right password of a disabled user answers as a wrong one, unless the app tells.
    name: 'a disabled user logging in with the right password',
    expected: 'invalid_credentials',
    run: async (c) => {
      await c.server.api('PATCH', `${c.app.path}/users/${c.userId}`, {
        key: c.app.secretKey,
        body: { disabled: true },
      });
      return asOutcome(await c.login({ strategy: 'local', email: c.email, password: PASSWORD }));
    },
  },
  {
    name: 'a disabled user logging in, in an app that reveals disabled users',
    settings: { revealDisabledUsers: true },
    expected: 'user_disabled',
    run: async (c) => {
      await c.server.api('PATCH', `${c.app.path}/users/${c.userId}`, {
        key: c.app.secretKey,
        body: { disabled: true },
      });
      return asOutcome(await c.login({ strategy: 'local', email: c.email, password: PASSWORD }));
    },
  },

  // Refresh
  {
    name: 'a refresh with the reconnect token, then a use of the new credentials',
    expected: 'ok',
    run: async (c) => {
      const holder = await c.holder();
      const refreshed = await holder.refresh();
      return refreshed === 'ok' ? holder.probe('ok') : refreshed;
    },
  },
  {
    name: 'a spent reconnect token presented again within the grace period (a lost answer)',
    expected: 'ok',
    run: async (c) => {
      const holder = await c.holder();
      const spent = holder.reconnectToken;
      await holder.refresh();
      c.advance(5000);
      return holder.refresh(spent);
    },
  },
  {
    name: 'a spent reconnect token presented again after the grace period (reuse)',
    expected: 'reconnect_token_reused',
    run: async (c) => {
      const holder = await c.holder();
      const spent = holder.reconnectToken;
      await holder.refresh();
      c.advance(31_000);
      return holder.refresh(spent);
    },
  },
  {
    name: 'a refresh with a token that is not one',
    expected: 'invalid_token',
    run: async (c) => (await c.holder()).refresh('rt_AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
  },

  // Expiry
  {
    name: 'an access token past its lifetime',
    expected: 'token_expired',
    run: async (c) => {
      const holder = await c.holder();
      c.advance(15 * 60_000 + 1000);
      return holder.probe('token_expired');
    },
  },
  {
    name: 'a session idle for its idle timeout',
    settings: { sessionIdleTimeout: 60, accessTokenTtl: HOUR },
    expected: 'session_expired',
    run: async (c) => {
      const holder = await c.holder();
      c.advance(61_000);
      return holder.probe('session_expired');
    },
  },
  {
    name: 'activity that keeps a session past its first idle deadline',
    settings: { sessionIdleTimeout: 120, accessTokenTtl: HOUR },
    expected: 'ok',
    run: async (c) => {
      const holder = await c.holder();
      c.advance(61_000);
      await holder.probe('ok');
      await c.settle();
      c.advance(61_000);
      return holder.probe('ok');
    },
  },
  {
    name: 'a session past its absolute lifetime, continued with its reconnect token',
    settings: { sessionLifetime: 300, sessionIdleTimeout: HOUR, accessTokenTtl: HOUR },
    expected: 'session_expired',
    run: async (c) => {
      const holder = await c.holder();
      c.advance(301_000);
      return holder.refresh();
    },
  },

  // Revocation
  {
    name: 'a logout',
    expected: 'session_revoked',
    run: async (c) => {
      const holder = await c.holder();
      await c.server.api('DELETE', `${c.app.path}/authentication`, { token: holder.accessToken });
      return holder.probe('session_revoked');
    },
  },
  {
    name: 'a password change made from another session',
    expected: 'session_revoked',
    run: async (c) => {
      const holder = await c.holder();
      const other = await c.otherSession();
      await c.server.api('PATCH', `${c.app.path}/me`, {
        token: other.accessToken,
        body: { oldPassword: PASSWORD, password: 'a brand new passphrase' },
      });
      return holder.probe('session_revoked');
    },
  },
  {
    name: 'the user disabled by the app',
    expected: 'user_disabled',
    run: async (c) => {
      const holder = await c.holder();
      await c.server.api('PATCH', `${c.app.path}/users/${c.userId}`, {
        key: c.app.secretKey,
        body: { disabled: true },
      });
      return holder.probe('user_disabled');
    },
  },
  {
    name: 'the user deleted by the app',
    expected: 'session_revoked',
    run: async (c) => {
      const holder = await c.holder();
      await c.server.api('DELETE', `${c.app.path}/users/${c.userId}`, { key: c.app.secretKey });
      return holder.probe('session_revoked');
    },
  },
  {
    name: "someone else reusing the holder's reconnect token",
    expected: { rest: 'session_revoked', socket: 'reconnect_token_reused' },
    why: 'REST answers every later call session_revoked (details.reason: reconnect_token_reused); the socket is closed with the code that names the reason',
    run: async (c) => {
      const holder = await c.holder();
      const thief = { key: c.app.publishableKey, body: { strategy: 'reconnect', token: holder.reconnectToken } };
      await c.server.api('POST', `${c.app.path}/authentication`, thief);
      c.advance(31_000);
      await c.server.api('POST', `${c.app.path}/authentication`, thief);
      return holder.probe(c.transport.name === 'rest' ? 'session_revoked' : 'reconnect_token_reused');
    },
  },
];

describe.each(backends)('authentication behaves the same over REST and the socket, on $name', (backend) => {
  let server: TestServer;
  const holders: Holder[] = [];
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => {
    await Promise.all(holders.map((holder) => holder.dispose()));
    await server.close();
  });

  async function contextFor(transport: Transport, settings: Record<string, unknown> | undefined): Promise<Context> {
    const app = await createApp(server, settings);
    const email = uniqueEmail('behaviour');
    const signup = await server.api<{ id: string }>('POST', `${app.path}/users`, {
      key: app.publishableKey,
      body: { email, password: PASSWORD },
    });
    const login = async (body: Record<string, unknown>, key?: string | null) => {
      const result = await transport.login(server, app, body, key);
      if (typeof result !== 'string') holders.push(result);
      return result;
    };
    return {
      server,
      app,
      transport,
      email,
      userId: signup.body.id,
      login,
      async holder() {
        const result = await login({ strategy: 'local', email, password: PASSWORD });
        if (typeof result === 'string') throw new Error(`login failed: ${result}`);
        return result;
      },
      async otherSession() {
        const response = await server.api<{ accessToken: string }>('POST', `${app.path}/authentication`, {
          key: app.publishableKey,
          body: { strategy: 'local', email, password: PASSWORD },
        });
        return response.body;
      },
      advance: (milliseconds) => server.clock.advance(milliseconds),
      settle: () => server.tessera.realtime.settled(),
    };
  }

  describe.each(transports)('over $name', (transport) => {
    it.each(CASES)('$name', async (testCase) => {
      const expected = typeof testCase.expected === 'string' ? testCase.expected : testCase.expected[transport.name];
      expect(await testCase.run(await contextFor(transport, testCase.settings))).toBe(expected);
    });
  });
});
