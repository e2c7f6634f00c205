import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../../../server/test/helpers/apps.js';
import { backends } from '../../../server/test/helpers/backends.js';
import { startTestServer, type TestServer } from '../../../server/test/helpers/server.js';
import { PASSWORD, uniqueEmail } from '../../../server/test/helpers/users.js';
import { buildBrowserBundle } from '../../scripts/build-browser.js';
import type * as Tessera from '../../src/index.js';
import { startPageServer, type PageServer } from './page-server.js';

interface LogEntry {
  type: 'sessionEnded' | 'refreshed' | 'open' | 'close';
  reason?: string;
  detail?: string;
  sessionId?: string;
  closeCode?: number;
  willReconnect?: boolean;
}

/**
 * What the test page offers (see page-server.ts). These run inside Chromium, in page.evaluate
 * callbacks; the test project has Node's types, not the DOM's, so the page's names are declared here.
 */
interface PageGlobals {
  Tessera: typeof Tessera;
  client: Tessera.TesseraClient;
  log: LogEntry[];
  ready?: boolean;
  setup(
    key: string,
    options?: Partial<Tessera.ClientOptions> & { lockSettleMs?: number },
  ): 'web-locks' | 'broadcast-channel';
  expiredCalls?: string[];
}
declare const window: PageGlobals;
declare const localStorage: { getItem(key: string): string | null };
declare const Navigator: { prototype: object };

const CHROMIUM = '/usr/bin/chromium';
const MINUTE = 60_000;
/** Generous: the wait ends at the event, and a busy machine may take seconds to get there (issue 12). */
const WAIT = { timeout: 15_000 };
/**
 * The BroadcastChannel lock takes the lock when no objection came within its settle time: the
 * tabs' messages must cross in that time, which a busy machine stretches past the default 50 ms.
 */
const LOCK_SETTLE_MS = 1000;

// The browser suite runs on the embedded backend: it tests the client in a browser, and the
// server's storage backends are covered by the Node suite.
describe.each(backends.slice(0, 1))('the client in headless Chromium, against Tessera on $name', (backend) => {
  let server: TestServer;
  let pages: PageServer;
  let context: BrowserContext;
  let workDir: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)`);
    workDir = mkdtempSync(join(tmpdir(), 'tessera-browser-'));
    const bundle = await buildBrowserBundle(join(workDir, 'bundle'));
    server = await startTestServer(backend);
    pages = await startPageServer(server.url, bundle.minFile);
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await context?.close();
    await pages?.close();
    await server?.close();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  /** A new tab on the page; `withoutWebLocks` hides navigator.locks, as older browsers lack it. */
  async function openTab(withoutWebLocks = false): Promise<Page> {
    const page = await context.newPage();
    if (withoutWebLocks)
      await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }));
    await page.goto(pages.url);
    await page.waitForFunction(() => window.ready === true, undefined, WAIT);
    return page;
  }

  const setup = (page: Page, storageKey?: string, lockSettleMs?: number) =>
    page.evaluate(
      ([key, storageKey, lockSettleMs]) =>
        window.setup(key, {
          ...(storageKey === undefined ? {} : { storageKey }),
          ...(lockSettleMs === undefined ? {} : { lockSettleMs }),
        }),
      [server.publishableKey, storageKey, lockSettleMs] as const,
    );
  const log = (page: Page) => page.evaluate(() => window.log);

  async function signUpAndConnect(page: Page): Promise<{ email: string; userId: string; sessionId: string }> {
    const email = uniqueEmail('browser');
    const result = await page.evaluate(
      async ([email, password]) => {
        await window.client.signup({ email, password });
        const login = await window.client.connect(email, password);
        return { userId: login.user.id, sessionId: login.session.id };
      },
      [email, PASSWORD] as const,
    );
    return { email, ...result };
  }

  it('logs in, keeps the session in localStorage, and resumes it after a reload without the password', async () => {
    const page = await openTab();
    expect(await setup(page)).toBe('web-locks');
    const { userId, sessionId } = await signUpAndConnect(page);
    expect(await page.evaluate(() => localStorage.getItem('tessera:demo/chat'))).toContain(userId);

    await page.reload();
    await page.waitForFunction(() => window.ready === true, undefined, WAIT);
    await setup(page);
    const callsBefore = pages.calls.length;
    expect(await page.evaluate(async () => (await window.client.getLoggedInUser())?.id)).toBe(userId);
    const resumed = await page.evaluate(async () => (await window.client.reAuthenticate()).session.id);
    expect(resumed).toBe(sessionId);
    expect(pages.calls.slice(callsBefore).some((call) => call.strategy === 'local')).toBe(false);
    await page.close();
  });

  it('after the session expired, onSessionExpired logs in again and retry() completes the call', async () => {
    const page = await openTab();
    await setup(page);
    const { email, sessionId } = await signUpAndConnect(page);
    await page.evaluate(
      ([email, password]) => {
        window.expiredCalls = [];
        window.client.onSessionExpired(async ({ reason, retry }) => {
          window.expiredCalls!.push(reason);
          await window.client.connect(email, password);
          retry();
        });
      },
      [email, PASSWORD] as const,
    );
    // Past the session's idle timeout (2 h) on the server's clock.
    server.clock.advance(3 * 60 * MINUTE);
    const user = await page.evaluate(async () => (await window.client.fetchUser()).email);
    expect(user).toBe(email);
    expect(await page.evaluate(() => window.expiredCalls)).toEqual(['expired']);
    const now = await page.evaluate(async () => (await window.client.reAuthenticate()).session.id);
    expect(now).not.toBe(sessionId);
    expect(await log(page)).toContainEqual({ type: 'sessionEnded', reason: 'expired' });
    await page.close();
  });

  for (const withoutWebLocks of [false, true]) {
    it(`two tabs refreshing at once spend one reconnect token and both keep a valid session (${withoutWebLocks ? 'BroadcastChannel lock' : 'Web Locks'})`, async () => {
      const storageKey = `two-tabs-${withoutWebLocks ? 'bc' : 'wl'}`;
      const tabA = await openTab(withoutWebLocks);
      const tabB = await openTab(withoutWebLocks);
      const lockSettleMs = withoutWebLocks ? LOCK_SETTLE_MS : undefined;
      expect(await setup(tabA, storageKey, lockSettleMs)).toBe(withoutWebLocks ? 'broadcast-channel' : 'web-locks');
      await setup(tabB, storageKey, lockSettleMs);
      const { userId, sessionId } = await signUpAndConnect(tabA);
      expect(await tabB.evaluate(async () => (await window.client.reAuthenticate()).user.id)).toBe(userId);

      // The browsers' clocks do not move: both tabs learn of the expiry from the server, at once.
      server.clock.advance(20 * MINUTE);
      const before = pages.calls.length;
      // The first refresh waits at the proxy until both tabs were refused: both need one at once.
      const refused = (calls: { path: string; status?: number }[]) =>
        calls.filter((call) => call.path.endsWith('/me') && call.status === 401).length;
      pages.holdRefreshesUntil((calls) => refused(calls.slice(before)) === 2);
      const [a, b] = await Promise.all(
        [tabA, tabB].map((tab) => tab.evaluate(async () => (await window.client.fetchUser()).id)),
      );
      expect([a, b]).toEqual([userId, userId]);
      const calls = pages.calls.slice(before);
      // Both tabs were refused (token_expired) and both needed a refresh; one reconnect token was spent.
      expect(refused(calls)).toBe(2);
      expect(
        calls.filter((call) => call.strategy === 'reconnect'),
        JSON.stringify(calls),
      ).toHaveLength(1);

      const tokens = await Promise.all([tabA, tabB].map((tab) => tab.evaluate(() => window.client.getAccessToken())));
      expect(tokens[0]).toBe(tokens[1]);
      const me = await server.api<{ id: string }>('GET', '/v1/apps/demo/chat/me', { token: tokens[0]! });
      expect(me.status).toBe(200);
      expect(await tabB.evaluate(async () => (await window.client.reAuthenticate()).session.id)).toBe(sessionId);
      for (const tab of [tabA, tabB])
        expect((await log(tab)).filter((entry) => entry.type === 'sessionEnded')).toEqual([]);
      await Promise.all([tabA.close(), tabB.close()]);
    });
  }

  // The page's origin is not Tessera's: here the client calls Tessera's URL itself, not the proxy.
  it('from a page on another origin, logs in, reads /me and connects when the app allows that origin, and cannot when it does not', async () => {
    const allowed = await createApp(server, { allowedOrigins: [pages.url] });
    const other = await createApp(server, { allowedOrigins: ['http://127.0.0.1:1'] });
    const email = uniqueEmail('cross-origin');
    for (const app of [allowed, other]) {
      const signup = await server.api('POST', `${app.path}/users`, {
        key: app.secretKey,
        body: { email, password: PASSWORD },
      });
      expect(signup.status).toBe(201);
    }
    const page = await openTab();
    const attempt = (app: TestApp) =>
      page.evaluate(
        async ([url, app, key, email, password]) => {
          window.setup(key, { url, app, storageKey: `cross-origin:${app}` });
          try {
            const login = await window.client.connect(email, password);
            const me = await window.client.fetchUser();
            await window.client.realtime.connect();
            return { loggedIn: login.user.id, me: me.id, realtime: window.client.realtime.state };
          } catch (error) {
            return { code: (error as Tessera.TesseraError).code };
          } finally {
            window.client.realtime.close();
          }
        },
        [server.url, `${app.namespace}/${app.name}`, app.publishableKey, email, PASSWORD] as const,
      );
    const callsBefore = pages.calls.length;

    const success = await attempt(allowed);
    expect(success).toEqual({ loggedIn: expect.any(String), me: expect.any(String), realtime: 'open' });
    expect((success as { me: string }).me).toBe((success as { loggedIn: string }).loggedIn);
    // The browser refuses the answer it may not read: the client sees no answer at all.
    expect(await attempt(other)).toEqual({ code: 'network_error' });
    expect(pages.calls.slice(callsBefore)).toEqual([]);
    await page.close();
  });

  it('hears a revocation pushed over the realtime connection at once', async () => {
    const page = await openTab();
    await setup(page, 'realtime');
    const { email, sessionId } = await signUpAndConnect(page);
    await page.evaluate(() => window.client.realtime.connect());
    expect(await page.evaluate(() => window.client.realtime.state)).toBe('open');

    const other = await server.api<{ accessToken: string }>('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    const revoked = await server.api('DELETE', `/v1/apps/demo/chat/me/sessions/${sessionId}`, {
      token: other.body.accessToken,
    });
    expect(revoked.status).toBe(204);
    await page.waitForFunction(() => window.log.some((entry) => entry.type === 'sessionEnded'), undefined, WAIT);
    const entries = await log(page);
    expect(entries.find((entry) => entry.type === 'close')).toEqual({
      type: 'close',
      reason: 'revoked',
      closeCode: 4115,
      code: 'session_revoked',
      detail: 'revoked',
      willReconnect: false,
    });
    expect(entries).toContainEqual({ type: 'sessionEnded', reason: 'revoked', detail: 'revoked' });
    expect(await page.evaluate(() => window.client.realtime.state)).toBe('suspended');
    expect(await page.evaluate(async () => window.client.getLoggedInUser())).toBeNull();
    await page.close();
  });
});
