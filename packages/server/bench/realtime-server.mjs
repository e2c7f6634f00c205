// The Tessera side of the REST and realtime benchmarks (see run.ts, realtime.ts), in a process of
// its own: started with an IPC channel and --expose-gc (on the server core when the bench pins),
// running the built server (dist/) as `tessera start` does (createTessera, then listen). On
// request it makes users with sessions (without password hashing, which is not measured here)
// and reports its memory after full garbage collections.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { bootstrapFirstRun } from '../dist/bootstrap.js';
import { loadConfig } from '../dist/config/index.js';
import { createTessera } from '../dist/tessera.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-rt-'));
const config = loadConfig({
  env: process.env,
  overrides: {
    host: '127.0.0.1',
    port: 0,
    dataDir,
    masterKey: Buffer.alloc(32, 3).toString('base64'),
    logLevel: 'warn',
    // Every bench client is 127.0.0.1, hundreds of them opening at once: the per-address limit is not what is measured.
    realtime: { maxPendingPerIp: 1_000_000 },
  },
});
const tessera = await createTessera({ config });
const firstRun = await bootstrapFirstRun(tessera.services);
if (firstRun === undefined) throw new Error('expected a fresh database');
const { apps, users, sessions } = tessera.services;
// One bench user may hold many connections, and every bench client signs up and refreshes from
// 127.0.0.1: the per-user and per-address limits are not what is measured. Access tokens last
// 6 hours so that the sessions made before a long run still authenticate at its end.
await apps.updateSettings(await apps.getApp('demo', 'chat'), {
  accessTokenTtl: 6 * 3600,
  realtime: { maxConnectionsPerUser: 1000 },
  rateLimits: { reconnect: { perAddress: 0 }, signup: { perAddress: 0, perApp: 0 } },
});
const url = await tessera.listen();

/** The credentials of `count` new sessions, one user per session. */
async function newSessions(count) {
  const app = await apps.getApp('demo', 'chat');
  const issued = [];
  for (let index = 0; index < count; index += 1) {
    const user = await users.create(app, { kind: 'registered', profile: { fullName: `Bench user ${index}` } });
    issued.push(await sessions.start(app, user, 'bench', { userAgent: 'bench', ip: '127.0.0.1' }));
  }
  return issued;
}

/** CPU time this process has used so far (user + system), every thread, in microseconds. */
function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function memory() {
  globalThis.gc();
  globalThis.gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}

process.on('message', (message) => {
  void (async () => {
    if (message.type === 'sessions')
      process.send({
        type: 'sessions',
        tokens: (await newSessions(message.count)).map((issued) => issued.accessToken),
      });
    else if (message.type === 'reconnectTokens')
      process.send({
        type: 'reconnectTokens',
        tokens: (await newSessions(message.count)).map((issued) => issued.reconnectToken),
        publishableKey: firstRun.publishableKey,
      });
    else if (message.type === 'cpu') process.send({ type: 'cpu', micros: cpuMicros() });
    else if (message.type === 'memory')
      process.send({ type: 'memory', memory: memory(), connections: tessera.realtime.connections });
    else if (message.type === 'heapSpaces')
      process.send({
        type: 'heapSpaces',
        spaces: Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size])),
      });
    else if (message.type === 'heapSnapshot') {
      memory();
      process.send({ type: 'heapSnapshot', path: writeHeapSnapshot(message.path) });
    }
  })();
});

process.once('SIGTERM', () => {
  void tessera.close().then(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});

process.send({ type: 'ready', url, publishableKey: firstRun.publishableKey });
