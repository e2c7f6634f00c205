import type { AuthenticationResult, User } from '@tessera/protocol';
import { expect } from 'vitest';
import { createApp, logInTo, type TestApp } from '../../../server/test/helpers/apps.js';
import { backends } from '../../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../../server/test/helpers/server.js';
import { PASSWORD, uniqueEmail } from '../../../server/test/helpers/users.js';
import {
  createVerifier,
  type Revocation,
  type RevocationCode,
  type RevocationListener,
  type RevocationSource,
  type Verifier,
  type VerifierOptions,
} from '../../src/index.js';

/**
 * A revocation source the test feeds, as an app may plug in its own (the documented
 * `revocations` option): what Tessera's feed will tell the verifier, told by the test after the
 * real logout or disabling on Tessera.
 */
export class TestRevocations implements RevocationSource {
  private readonly ended = new Map<string, RevocationCode>();
  private readonly listeners = new Set<RevocationListener>();

  revoked(sessionId: string): RevocationCode | undefined {
    return this.ended.get(sessionId);
  }

  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The sessions `sessionIds` ended; listeners hear `revocation`. */
  end(revocation: Revocation, sessionIds: string[]): void {
    for (const sessionId of sessionIds) this.ended.set(sessionId, revocation.code);
    for (const listener of this.listeners) listener(revocation);
  }

  get listening(): number {
    return this.listeners.size;
  }
}

/** A real Tessera with an app, users who log in for real, and a verifier of the app's tokens. */
export interface Fixture {
  server: TestServer;
  app: TestApp;
  revocations: TestRevocations;
  verifier: Verifier;
  /** A new verifier of the app (closed at the end), e.g. with other keys options. */
  verifierOf(options?: Partial<VerifierOptions>): Verifier;
  newUser(roles?: string[]): Promise<User>;
  logIn(user: User): Promise<AuthenticationResult>;
  /** Logs the session out on Tessera, then tells the revocation source, as the feed would. */
  logOut(login: AuthenticationResult): Promise<void>;
  /** Disables the user on Tessera, then tells the revocation source its sessions ended. */
  disable(user: User, sessions: AuthenticationResult[]): Promise<void>;
  close(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const server = await startTestServer(backends[0]!);
  const app = await createApp(server);
  const appName = `${app.namespace}/${app.name}`;
  const revocations = new TestRevocations();
  const verifiers: Verifier[] = [];
  const verifierOf = (options: Partial<VerifierOptions> = {}): Verifier => {
    const verifier = createVerifier({
      url: server.url,
      app: appName,
      now: () => server.clock.now(),
      revocations,
      ...options,
    });
    verifiers.push(verifier);
    return verifier;
  };
  return {
    server,
    app,
    revocations,
    verifier: verifierOf(),
    verifierOf,
    async newUser(roles = []) {
      const created = await server.api<User>('POST', `${app.path}/users`, {
        key: app.secretKey,
        body: { email: uniqueEmail('integration'), password: PASSWORD, roles },
      });
      expect(created.status).toBe(201);
      return created.body;
    },
    logIn: (user) => logInTo(server, app, { strategy: 'local', email: user.email, password: PASSWORD }),
    async logOut(login) {
      const ended = await server.api('DELETE', `${app.path}/authentication`, { token: login.accessToken });
      expect(ended.status).toBeLessThan(300);
      revocations.end({ userId: login.user.id, sessionId: login.session.id, code: 'session_revoked' }, [
        login.session.id,
      ]);
    },
    async disable(user, sessions) {
      const disabled = await server.api('PATCH', `${app.path}/users/${user.id}`, {
        key: app.secretKey,
        body: { disabled: true },
      });
      expect(disabled.status).toBe(200);
      revocations.end(
        { userId: user.id, code: 'user_disabled' },
        sessions.map((login) => login.session.id),
      );
    },
    async close() {
      for (const verifier of verifiers) verifier.close();
      await server.close();
    },
  };
}

/** `promise`, or a failure naming `what` after a generous wait (never a race on a busy machine). */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
