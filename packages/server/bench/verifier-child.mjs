// The measuring side of the verifier bench (./verifier.ts), in a process of its own started with
// --expose-gc and an IPC channel: the built @tessera/verifier (dist/, as an app installs it) and
// jose, nothing else. On request it measures
//   - `throughput`: tokens verified per second by jose's jwtVerify alone (a local JWK set built
//     from the app's JWKS), by the verifier without its cache (cacheSize 0) and with it, on the
//     same real tokens, alternating the three in each round; each measurement bounded in
//     operations and in time;
//   - `revokedMemory`: the heap the verifier's revoked-session set takes for `count` revocations,
//     fed through the verifier's public surface (createVerifier with a secret key, revokedCount):
//     a local stand-in for Tessera's event stream (the wire format of @tessera/protocol's
//     events.ts) on 127.0.0.1 sends `ready`, then one `session.ended` per session. Heap used
//     after full collections, once the verifier is live and once it holds every revocation;
//     baseline: the same number of fresh session ids alone in a Set.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createVerifier } from '@tessera/verifier';

/** Operations between two looks at the clock. */
const BATCH = 100;

/** Heap used after full collections, each followed by a turn of the event loop (weak callbacks, sweeping). */
async function heapUsed() {
  for (let collection = 0; collection < 4; collection += 1) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** Verifications per second of `verify` over `tokens` in turn, after one untimed pass; at most `maxOps`, at most `seconds`. */
async function perSecond(verify, tokens, seconds, maxOps) {
  for (const token of tokens) await verify(token);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let done = 0;
  while (done < maxOps && performance.now() < deadline) {
    for (let index = 0; index < BATCH; index += 1) await verify(tokens[(done + index) % tokens.length]);
    done += BATCH;
  }
  return done / ((performance.now() - started) / 1000);
}

async function throughput({ url, app, publicUrl, tokens, seconds, rounds, maxOps }) {
  const appUrl = `${url}/v1/apps/${app}`;
  const response = await fetch(`${appUrl}/.well-known/jwks.json`);
  if (response.status !== 200) throw new Error(`the JWKS answered ${response.status}`);
  const localKeys = createLocalJWKSet(await response.json());
  const checks = {
    issuer: `${publicUrl ?? url}/v1/apps/${app}`,
    audience: app,
    typ: 'at+jwt',
    algorithms: ['EdDSA', 'ES256'],
    clockTolerance: 5,
    requiredClaims: ['sub', 'sid', 'iat', 'exp'],
  };
  const jose = (token) => jwtVerify(token, localKeys, checks);
  const uncachedVerifier = createVerifier({ url, app, publicUrl, cacheSize: 0 });
  const cachedVerifier = createVerifier({ url, app, publicUrl, cacheSize: Math.max(10_000, tokens.length) });
  const results = [];
  try {
    for (let round = 0; round < rounds; round += 1)
      results.push({
        jose: await perSecond(jose, tokens, seconds, maxOps),
        uncached: await perSecond((token) => uncachedVerifier.verify(token), tokens, seconds, maxOps),
        cached: await perSecond((token) => cachedVerifier.verify(token), tokens, seconds, maxOps),
      });
  } finally {
    uncachedVerifier.close();
    cachedVerifier.close();
  }
  return { rounds: results };
}

/** A stand-in for Tessera's `GET …/events` on 127.0.0.1: `ready` at once, then the events `send` is given. */
async function eventStreamServer(app) {
  let stream;
  let connected;
  const opened = new Promise((resolve) => (connected = resolve));
  const server = createServer((request, response) => {
    if (request.url !== `/v1/apps/${app}/events`) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.write(`id: 0\nevent: ready\ndata: ${JSON.stringify({ after: 0, gap: false, retentionSeconds: 900 })}\n\n`);
    stream = response;
    connected();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    opened,
    /** Writes `count` session.ended events, one session each, waiting for the socket to drain. */
    async send(count, tokensExpireBy) {
      for (let sequence = 1; sequence <= count; sequence += 1) {
        const event = {
          sequence,
          app,
          at: new Date().toISOString(),
          type: 'session.ended',
          userId: randomUUID(),
          sessionIds: [randomUUID()],
          reason: 'logout',
          tokensExpireBy,
        };
        const written = stream.write(`id: ${sequence}\nevent: session.ended\ndata: ${JSON.stringify(event)}\n\n`);
        if (!written) await new Promise((resolve) => stream.once('drain', resolve));
      }
    },
    close() {
      stream?.end();
      server.closeAllConnections();
      server.close();
    },
  };
}

async function revokedMemory({ count, timeoutMs }) {
  // Baseline: the session ids alone in a Set, flat strings as JSON.parse makes them of the events
  // (randomUUID's own strings are made of concatenated pieces, which would inflate the baseline).
  let json = JSON.stringify(Array.from({ length: count }, () => randomUUID()));
  const beforeSet = await heapUsed();
  let ids = new Set(JSON.parse(json));
  const setBytes = (await heapUsed()) - beforeSet;
  if (ids.size !== count) throw new Error('duplicate ids');
  ids = undefined;
  json = undefined;

  const app = 'bench/revocations';
  const stream = await eventStreamServer(app);
  const errors = [];
  const verifier = createVerifier({
    url: stream.url,
    app,
    secretKey: 'sk_bench.not-a-real-key',
    feed: { sweepIntervalMs: 3_600_000, onError: (error) => errors.push(`${error.code}: ${error.message}`) },
  });
  try {
    await Promise.race([
      verifier.ready(),
      new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the feed was not ready in 10 s')), 10_000)),
    ]);
    await stream.opened;
    const before = await heapUsed();
    const started = performance.now();
    await stream.send(count, new Date(Date.now() + 3_600_000).toISOString());
    const deadline = started + timeoutMs;
    while (verifier.revokedCount < count && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (performance.now() - started) / 1000;
    const after = await heapUsed();
    return { before, after, setBytes, revokedCount: verifier.revokedCount, seconds, errors: errors.slice(0, 5) };
  } finally {
    verifier.close();
    stream.close();
  }
}

process.on('message', (message) => {
  void (async () => {
    try {
      if (message.type === 'throughput') process.send({ type: 'throughput', ...(await throughput(message)) });
      else if (message.type === 'revokedMemory')
        process.send({ type: 'revokedMemory', ...(await revokedMemory(message)) });
    } catch (error) {
      process.send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});

process.send({ type: 'ready' });
