/**
 * `npm run chat`: the chat example with Tessera embedded (or an existing Tessera, see README.md).
 * Environment: CHAT_PORT (default 3200), CHAT_TESSERA_PORT (3201), CHAT_DATA_DIR (examples/chat/.data);
 * for an existing Tessera: CHAT_TESSERA_URL, CHAT_APP, CHAT_PUBLISHABLE_KEY, CHAT_SECRET_KEY and
 * optionally CHAT_ADMIN_TOKEN.
 */
import { fileURLToPath } from 'node:url';
import { startChat, type StartChatOptions } from './start.js';

const env = process.env;
const port = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number`);
  return value;
};
const required = (name: string) => {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is needed with CHAT_TESSERA_URL`);
  return value;
};

const tessera: StartChatOptions['tessera'] =
  env.CHAT_TESSERA_URL === undefined
    ? {
        embedded: true,
        port: port('CHAT_TESSERA_PORT', 3201),
        dataDir: env.CHAT_DATA_DIR ?? fileURLToPath(new URL('../.data/', import.meta.url)),
      }
    : {
        embedded: false,
        url: env.CHAT_TESSERA_URL,
        app: required('CHAT_APP'),
        publishableKey: required('CHAT_PUBLISHABLE_KEY'),
        secretKey: required('CHAT_SECRET_KEY'),
        ...(env.CHAT_ADMIN_TOKEN === undefined ? {} : { adminToken: env.CHAT_ADMIN_TOKEN }),
      };

const running = await startChat({ port: port('CHAT_PORT', 3200), tessera });
process.stdout.write(
  [
    '',
    `Chat:    ${running.url}   (open it in two browsers, or a normal and a private window)`,
    `Tessera: ${running.tesseraUrl}  app ${running.app}`,
    'Stop with Ctrl+C.',
    '',
  ].join('\n'),
);

const stop = () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
