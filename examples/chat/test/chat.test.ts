/**
 * The chat example end to end: Tessera embedded, the chat server, and the page in headless
 * Chromium (issue 15 item 5). Started as `npm run chat` starts it, on free ports and a fresh data
 * folder. Waits are for events, with generous timeouts; the logout latency is measured and reported.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { io as connectSocket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowserBundle } from '../../../packages/client/scripts/build-browser.js';
import { startChat, type RunningChat } from '../src/start.js';
import { callTessera } from '../src/tessera-api.js';

interface ChatEvent {
  type: string;
  at: number;
  code?: string;
  reason?: string;
  room?: string;
}

/** What the page keeps in `window.chat` (public/chat.js); declared here, as the test project has no DOM types. */
interface PageGlobals {
  chat: { ready: boolean; user: { userId: string; name: string } | null; canPost: boolean; events: ChatEvent[] };
}
declare const window: PageGlobals;

const CHROMIUM = '/usr/bin/chromium';
/** Generous: each wait ends at its event, and a busy machine may take seconds to get there. */
const WAIT = { timeout: 20_000 };
const PASSWORD = 'correct horse battery staple 42';

describe('examples/chat in headless Chromium', () => {
  let workDir: string;
  let chat: RunningChat;
  let browser: Browser;
  let backendKey: string;
  const contexts: BrowserContext[] = [];
  let serial = 0;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)`);
    workDir = mkdtempSync(join(tmpdir(), 'tessera-chat-'));
    const bundle = await buildBrowserBundle(join(workDir, 'bundle'));
    chat = await startChat({
      port: 0,
      tessera: {
        embedded: true,
        port: 0,
        dataDir: join(workDir, 'data'),
        // Small argon2 parameters keep the test fast; the command uses the real ones.
        config: { logLevel: 'silent', passwords: { memoryCost: 1024, timeCost: 1, parallelism: 1 } },
      },
      clientBundle: bundle.minFile,
    });
    // The app's backend, which disables users: a secret key of its own.
    backendKey = (
      await callTessera<{ key: string }>(chat.tesseraUrl, {
        method: 'POST',
        path: `/v1/admin/apps/${chat.app}/keys`,
        admin: chat.adminToken!,
        body: { kind: 'secret', label: 'test backend', scopes: ['users:write'] },
      })
    ).key;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
    });
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
    await chat?.close();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  /** A new browser (cookies and storage of its own) with the chat page open. */
  async function openBrowser(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    contexts.push(context);
    return { context, page: await openTab(context) };
  }

  async function openTab(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    await page.goto(chat.url);
    await page.waitForFunction(() => window.chat?.ready === true, undefined, WAIT);
    return page;
  }

  const uniqueName = (prefix: string) => `${prefix}${Date.now().toString(36)}${serial++}`;

  /** Fills the password form and presses "Sign up" (which logs in) or "Log in"; resolves once in the chat. */
  async function withPassword(page: Page, action: 'signup' | 'login', username: string, fullName?: string) {
    await page.fill('#password-form [name=username]', username);
    await page.fill('#password-form [name=password]', PASSWORD);
    if (fullName !== undefined) await page.fill('#password-form [name=fullName]', fullName);
    await page.click(`#password-form button[value=${action}]`);
    return inChat(page);
  }

  async function asGuest(page: Page, fullName: string) {
    await page.fill('#guest-form [name=fullName]', fullName);
    await page.click('#guest-form button');
    return inChat(page);
  }

  async function anonymously(page: Page, displayName: string) {
    await page.fill('#anonymous-form [name=displayName]', displayName);
    await page.click('#anonymous-form button');
    return inChat(page);
  }

  /** Waits until the page is connected and in its room; resolves to the user as the chat sees it. */
  async function inChat(page: Page): Promise<{ userId: string; name: string }> {
    await page.waitForFunction(() => window.chat.events.some((event) => event.type === 'joined'), undefined, WAIT);
    return (await page.evaluate(() => window.chat.user))!;
  }

  async function say(page: Page, text: string) {
    await page.fill('#message-form [name=text]', text);
    await page.press('#message-form [name=text]', 'Enter');
  }

  const message = (page: Page, text: string) => page.locator('#messages li', { hasText: text });
  const online = (page: Page, name: string) => page.locator('#online li', { hasText: name });

  /** Waits for the page to be cut off by the server; resolves to the event, with when it arrived. */
  async function cutOff(page: Page): Promise<ChatEvent> {
    const handle = await page.waitForFunction(
      () => window.chat.events.find((event) => event.type === 'session_ended'),
      undefined,
      WAIT,
    );
    await page.locator('#banner.ended', { hasText: 'You were logged out' }).waitFor(WAIT);
    return (await handle.jsonValue()) as ChatEvent;
  }

  it('two users chat in a room, see each other online, and a newcomer gets the room’s last messages', async () => {
    const ada = await openBrowser();
    const grace = await openBrowser();
    await withPassword(ada.page, 'signup', uniqueName('ada'), 'Ada Lovelace');
    await asGuest(grace.page, 'Grace Hopper');

    await online(ada.page, 'Grace Hopper').waitFor(WAIT);
    await online(grace.page, 'Ada Lovelace').waitFor(WAIT);
    await say(ada.page, 'Hello Grace!');
    await message(grace.page, 'Hello Grace!').waitFor(WAIT);
    expect(await message(grace.page, 'Hello Grace!').locator('.from').textContent()).toBe('Ada Lovelace');
    await say(grace.page, 'Hello Ada.');
    await message(ada.page, 'Hello Ada.').waitFor(WAIT);

    // A room of their own: Ada creates it and posts; Grace sees it listed, joins, and gets the history.
    const room = uniqueName('project-');
    await ada.page.fill('#create-room-form [name=room]', room);
    await ada.page.click('#create-room-form button');
    await ada.page.locator('#room-title', { hasText: room }).waitFor(WAIT);
    await say(ada.page, 'Only about the project here.');
    await message(ada.page, 'Only about the project here.').waitFor(WAIT);
    await grace.page.click(`#rooms button[data-room="${room}"]`);
    await message(grace.page, 'Only about the project here.').waitFor(WAIT);
    // In the new room too, each sees the other online.
    await online(ada.page, 'Grace Hopper').waitFor(WAIT);
    await online(grace.page, 'Ada Lovelace').waitFor(WAIT);
  });

  it('"log out everywhere" in one tab cuts the chat in another tab of the same user', async () => {
    const username = uniqueName('linus');
    const { context, page: first } = await openBrowser();
    const { userId } = await withPassword(first, 'signup', username, 'Linus');
    // The second tab keeps its own session (sessionStorage): the chat server alone can tell it the user logged out.
    const second = await openTab(context);
    await withPassword(second, 'login', username);
    const sockets = () =>
      [...chat.chat.io.of('/').sockets.values()].filter(
        (s) => (s.data as { member?: { userId: string } }).member?.userId === userId,
      );
    expect(sockets()).toHaveLength(2);

    await first.click('#logout-everywhere');
    const ended = await cutOff(second);
    expect(ended.code).toBe('session_revoked');
    const clicked = (await first.evaluate(() =>
      window.chat.events.find((event) => event.type === 'logout_everywhere'),
    ))!;
    // Reported, not asserted: a busy machine stretches it; the target is under a second.
    console.info(`logout everywhere → other tab cut off: ${ended.at - clicked.at} ms`);
    expect(sockets()).toHaveLength(0);
    await second.locator('#login-view').waitFor(WAIT);
  });

  it('a user the backend disables is cut off', async () => {
    const { page } = await openBrowser();
    const { userId } = await withPassword(page, 'signup', uniqueName('mallory'), 'Mallory');
    const disabledAt = Date.now();
    await callTessera(chat.tesseraUrl, {
      method: 'PATCH',
      path: `/v1/apps/${chat.app}/users/${userId}`,
      key: backendKey,
      body: { disabled: true },
    });
    const ended = await cutOff(page);
    expect(ended.code).toBe('user_disabled');
    expect(await page.locator('#banner').textContent()).toContain('your account was disabled');
    console.info(`user disabled by the backend → chat cut off: ${ended.at - disabledAt} ms`);
  });

  it('a dropped connection comes back by itself (a fresh token from the client) and rejoins its room', async () => {
    const { page } = await openBrowser();
    const { userId } = await withPassword(page, 'signup', uniqueName('ken'), 'Ken');
    const room = uniqueName('ops-');
    await page.fill('#create-room-form [name=room]', room);
    await page.click('#create-room-form button');
    await page.locator('#room-title', { hasText: room }).waitFor(WAIT);
    const joins = () =>
      page.evaluate((room) => window.chat.events.filter((e) => e.type === 'joined' && e.room === room).length, room);
    expect(await joins()).toBe(1);

    // The network drops (the transport closes under the socket): the client reconnects on its own.
    for (const socket of chat.chat.io.of('/').sockets.values())
      if ((socket.data as { member?: { userId: string } }).member?.userId === userId) socket.conn.close();
    await page.waitForFunction(
      (room) => window.chat.events.filter((e) => e.type === 'joined' && e.room === room).length === 2,
      room,
      WAIT,
    );
    await say(page, 'back again');
    await message(page, 'back again').waitFor(WAIT);
  });

  it('an anonymous visitor sees the messages but cannot post: the server refuses without the member role', async () => {
    const poster = await openBrowser();
    await asGuest(poster.page, 'Poster');
    const text = `${uniqueName('news-')} for everyone`;
    await say(poster.page, text);
    await message(poster.page, text).waitFor(WAIT);

    const { page } = await openBrowser();
    await anonymously(page, 'Quiet Visitor');
    await message(page, text).waitFor(WAIT);
    await online(poster.page, 'Quiet Visitor').waitFor(WAIT);
    expect(await page.evaluate(() => window.chat.canPost)).toBe(false);
    expect(await page.locator('#message-form').isHidden()).toBe(true);
    expect(await page.locator('#create-room-form').isHidden()).toBe(true);
    expect(await page.locator('#read-only').textContent()).toContain('"member"');

    // Past the page: a visitor's socket that posts anyway is refused, with an error event.
    const login = await callTessera<{ accessToken: string }>(chat.tesseraUrl, {
      method: 'POST',
      path: `/v1/apps/${chat.app}/authentication`,
      key: chat.publishableKey,
      body: { strategy: 'anonymous', displayName: 'Sneaky' },
    });
    const socket = connectSocket(chat.url, { auth: { token: login.accessToken }, transports: ['websocket'] });
    try {
      const refused = new Promise<{ code: string }>((resolve) => socket.once('chat-error', resolve));
      await new Promise<void>((resolve) => socket.once('welcome', () => resolve()));
      expect(await socket.emitWithAck('join', 'general')).toMatchObject({ ok: true });
      expect(await socket.emitWithAck('message', { room: 'general', text: 'let me in' })).toEqual({
        ok: false,
        code: 'member_role_required',
        message: expect.stringContaining('"member"'),
      });
      expect((await refused).code).toBe('member_role_required');
      expect(await socket.emitWithAck('create-room', 'lurkers')).toMatchObject({
        ok: false,
        code: 'member_role_required',
      });
      expect(await message(poster.page, 'let me in').count()).toBe(0);
    } finally {
      socket.close();
    }
  });
});
