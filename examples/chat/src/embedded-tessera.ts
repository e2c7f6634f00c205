/**
 * Tessera embedded in the example's process, through `@tessera/server`'s public exports: SQLite
 * in a data folder, the first start's app `demo/chat` (`bootstrapFirstRun`), and the example's
 * keys saved beside the database so that a restart finds them (only their hashes are in Tessera).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapFirstRun, createTessera, loadConfig, type Tessera } from '@tessera/server';
import { callTessera } from './tessera-api.js';

/** The scopes of the chat server's secret key: hear ended sessions, read profiles for display names. */
export const CHAT_KEY_SCOPES = ['sessions:read', 'users:read'];

/** The credentials the example keeps in its data folder (mode 0600, gitignored). */
export interface ChatCredentials {
  app: string;
  publishableKey: string;
  /** The chat server's key: scopes {@link CHAT_KEY_SCOPES}. */
  secretKey: string;
  /** To change the app's settings (allowed origins) on each start. */
  adminToken: string;
}

export interface EmbeddedTesseraOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  /** More of Tessera's configuration (e.g. smaller password hashing parameters in tests). */
  config?: Record<string, unknown>;
}

export interface EmbeddedTessera {
  tessera: Tessera;
  url: string;
  credentials: ChatCredentials;
}

const CREDENTIALS_FILE = 'chat-example.json';

export async function startEmbeddedTessera(options: EmbeddedTesseraOptions): Promise<EmbeddedTessera> {
  mkdirSync(options.dataDir, { recursive: true });
  const config = loadConfig({
    env: process.env,
    overrides: {
      logLevel: process.env.TESSERA_LOG_LEVEL ?? 'warn',
      ...options.config,
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
    },
  });
  const tessera = await createTessera({ config });
  try {
    const url = await tessera.listen();
    const credentials = await credentialsOf(tessera, url, options.dataDir);
    return { tessera, url, credentials };
  } catch (error) {
    await tessera.close();
    throw error;
  }
}

/** The first start makes the app and the chat's key and saves them; a later one reads them back. */
async function credentialsOf(tessera: Tessera, url: string, dataDir: string): Promise<ChatCredentials> {
  const file = join(dataDir, CREDENTIALS_FILE);
  const firstRun = await bootstrapFirstRun(tessera.services);
  if (firstRun === undefined) {
    if (!existsSync(file))
      throw new Error(
        `${dataDir} holds a Tessera database but not ${CREDENTIALS_FILE}: delete the folder to start afresh.`,
      );
    return JSON.parse(readFileSync(file, 'utf8')) as ChatCredentials;
  }
  const chatKey = await callTessera<{ key: string }>(url, {
    method: 'POST',
    path: `/v1/admin/apps/${firstRun.app}/keys`,
    admin: firstRun.adminToken,
    body: { kind: 'secret', label: 'chat server', scopes: CHAT_KEY_SCOPES },
  });
  const credentials: ChatCredentials = {
    app: firstRun.app,
    publishableKey: firstRun.publishableKey,
    secretKey: chatKey.key,
    adminToken: firstRun.adminToken,
  };
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return credentials;
}
