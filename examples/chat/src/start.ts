/**
 * Starts the whole example: Tessera (embedded, or an existing one), the app's settings, the
 * verifier and the chat server. `main.ts` calls it from the command line; the test calls it too.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createVerifier, type Verifier } from '@tessera/verifier';
import { configureApp } from './app-settings.js';
import { createChatServer, type ChatServer } from './chat-server.js';
import { startEmbeddedTessera, type EmbeddedTessera, type EmbeddedTesseraOptions } from './embedded-tessera.js';
import { Profiles } from './tessera-api.js';

/** An existing Tessera and the app the chat uses on it. */
export interface ExistingTessera {
  url: string;
  /** `namespace/app`. */
  app: string;
  publishableKey: string;
  /** A secret key with the scopes `sessions:read` and `users:read`. */
  secretKey: string;
  /** When given, the app's settings are set for the chat on start; else set them yourself (see the README). */
  adminToken?: string;
}

export interface StartChatOptions {
  /** Where the chat listens; default 127.0.0.1. */
  host?: string;
  /** The chat's port; 0 picks a free one. */
  port: number;
  /** Tessera embedded in this process (default), or an existing one. */
  tessera: ({ embedded: true } & Omit<EmbeddedTesseraOptions, 'host'>) | ({ embedded: false } & ExistingTessera);
  /** `@tessera/client`'s browser bundle; default the file of its `@tessera/client/browser` export. */
  clientBundle?: string;
  /** How long to wait for the verifier's revocation feed before accepting sockets anyway; default 10 000 ms. */
  feedWaitMs?: number;
}

export interface RunningChat {
  /** The chat page. */
  url: string;
  tesseraUrl: string;
  app: string;
  publishableKey: string;
  /** The embedded Tessera's admin token (undefined with an existing Tessera). */
  adminToken: string | undefined;
  chat: ChatServer;
  verifier: Verifier;
  close(): Promise<void>;
}

export async function startChat(options: StartChatOptions): Promise<RunningChat> {
  const host = options.host ?? '127.0.0.1';
  const clientBundle = options.clientBundle ?? publishedClientBundle();
  const { target, embedded } = await tesseraOf(options.tessera, host);
  const { url: tesseraUrl, app, publishableKey, secretKey, adminToken } = target;

  // With the secret key, the verifier hears Tessera's revocation feed: logouts and disabled users cut sockets at once.
  const verifier = createVerifier({ url: tesseraUrl, app, secretKey });
  const profiles = new Profiles(tesseraUrl, app, secretKey);
  const chat = createChatServer({
    verifier,
    nameOf: (userId) => profiles.nameOf(userId),
    page: { tesseraUrl, app, publishableKey },
    publicDir: fileURLToPath(new URL('../public/', import.meta.url)),
    clientBundle,
  });
  const close = async () => {
    await chat.close();
    verifier.close();
    await embedded?.tessera.close();
  };
  try {
    await feedLive(verifier, options.feedWaitMs ?? 10_000);
    const url = await chat.listen(host, options.port);
    if (adminToken !== undefined) await configureApp(tesseraUrl, app, adminToken, url);
    return {
      url,
      tesseraUrl,
      app,
      publishableKey,
      adminToken: embedded?.credentials.adminToken,
      chat,
      verifier,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The Tessera the chat uses: the one given, or one started here (with the credentials of its app). */
async function tesseraOf(
  tessera: StartChatOptions['tessera'],
  host: string,
): Promise<{ target: ExistingTessera; embedded?: EmbeddedTessera }> {
  if (!tessera.embedded) return { target: tessera };
  const embedded = await startEmbeddedTessera({ ...tessera, host });
  return { target: { url: embedded.url, ...embedded.credentials }, embedded };
}

/**
 * Waits until the verifier hears Tessera's revocation feed. A feed still down after `waitMs` is
 * reported and the chat starts anyway: meanwhile the verifier checks each token online.
 */
async function feedLive(verifier: Verifier, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waitMs)));
  try {
    if ((await Promise.race([verifier.ready(), late])) === 'late')
      process.emitWarning(
        `Tessera's revocation feed is not live yet (${verifier.status}); tokens are checked online meanwhile.`,
      );
  } finally {
    clearTimeout(timer);
  }
}

/** The file `@tessera/client/browser` names: built by `npm run build -w @tessera/client`. */
function publishedClientBundle(): string {
  const file = createRequire(import.meta.url).resolve('@tessera/client/browser');
  if (!existsSync(file)) throw new Error(`${file} is missing: build it with npm run build -w @tessera/client`);
  return file;
}
