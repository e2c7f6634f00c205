// The app's own server of the verifier bench (./verifier.ts), in a process of its own with an IPC
// channel: a `ws` server on 127.0.0.1 behind @tessera/verifier's upgrade handler (the built
// package, as an app installs it), subscribed to Tessera's revocation feed with a secret key.
// A socket whose session ends is closed by the integration (4115 session_revoked). It says
// `ready` once the feed is live, or `error` when it is not within FEED_READY_MS.
// Configuration comes from the environment: BENCH_TESSERA_URL (the node the feed streams from),
// BENCH_TESSERA_PUBLIC_URL (the tokens' issuer), BENCH_APP and BENCH_SECRET_KEY.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { createVerifier } from '@tessera/verifier';
import { tesseraUpgrade } from '@tessera/verifier/ws';

const FEED_READY_MS = 20_000;
const env = process.env;
const feedErrors = [];
const verifier = createVerifier({
  url: env.BENCH_TESSERA_URL,
  publicUrl: env.BENCH_TESSERA_PUBLIC_URL,
  app: env.BENCH_APP,
  secretKey: env.BENCH_SECRET_KEY,
  feed: { onError: (error) => feedErrors.push(`${error.code}: ${error.message}`) },
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const upgrade = tesseraUpgrade(verifier, wss);
wss.on('connection', (socket) => socket.send('welcome'));
const server = createServer((_request, response) => response.writeHead(404).end()).on('upgrade', upgrade);

try {
  await Promise.race([
    verifier.ready(),
    new Promise((_resolve, reject) =>
      setTimeout(() => reject(new Error(`the feed was not live within ${FEED_READY_MS / 1000} s`)), FEED_READY_MS),
    ),
  ]);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}` });
} catch (error) {
  process.send({
    type: 'error',
    message: `${error.message}; feed status ${verifier.status}; ${feedErrors.slice(-3).join('; ')}`,
  });
}

process.once('SIGTERM', () => {
  upgrade.close();
  verifier.close();
  for (const socket of wss.clients) socket.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
