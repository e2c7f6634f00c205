import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AuthenticationResult } from '@tessera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapFirstRun, type FirstRun } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createTessera, type Tessera } from '../../src/tessera.js';
import { makeApi, type Api } from '../helpers/server.js';
import { PASSWORD } from '../helpers/users.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  status?: number;
  code?: string;
}

// What an operator reads: one line per request with its id, refusals with the same id, and never a secret.
describe('request logs', () => {
  const written: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-logs-'));
  let tessera: Tessera;
  let firstRun: FirstRun;
  let api: Api;

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
        done();
      },
    });
    const config = loadConfig({ overrides: { host: '127.0.0.1', port: 0, dataDir, masterKey: Buffer.alloc(32, 5).toString('base64'), passwords: { memoryCost: 1024, timeCost: 1 } } });
    tessera = await createTessera({ config, logger: createLogger('info', stream) });
    firstRun = (await bootstrapFirstRun(tessera.services))!;
    api = makeApi(await tessera.listen());
  });
  afterAll(async () => {
    await tessera?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const lines = () => written.map((line) => JSON.parse(line) as LogLine);

  it('writes one line per request, and a refusal, both with the id the answer carries', async () => {
    const answer = await api('GET', '/v1/apps/demo/chat/me');
    expect(answer.status).toBe(401);
    const id = answer.headers.get('x-request-id');
    const mine = lines().filter((line) => line.reqId === id);
    expect(mine).toEqual([expect.objectContaining({ msg: 'request refused', code: 'missing_credentials', status: 401 }), expect.objectContaining({ msg: 'request', status: 401 })]);
  });

  it('never writes a password, a token or a key', async () => {
    const email = 'logs@example.com';
    expect((await api('POST', '/v1/apps/demo/chat/users', { key: firstRun.publishableKey, body: { email, password: PASSWORD } })).status).toBe(201);
    const login = await api<AuthenticationResult>('POST', '/v1/apps/demo/chat/authentication', { key: firstRun.publishableKey, body: { strategy: 'local', email, password: PASSWORD } });
    expect(login.status).toBe(201);
    expect((await api('GET', '/v1/apps/demo/chat/me', { token: login.body.accessToken })).status).toBe(200);
    expect((await api('POST', '/v1/apps/demo/chat/authentication', { key: firstRun.publishableKey, body: { strategy: 'local', email, password: 'a wrong password' } })).status).toBe(401);
    const all = written.join('\n');
    expect(all).toContain('"msg":"request"');
    for (const secret of [PASSWORD, 'a wrong password', login.body.accessToken, login.body.reconnectToken, firstRun.publishableKey, firstRun.secretKey]) expect(all).not.toContain(secret);
  });
});
