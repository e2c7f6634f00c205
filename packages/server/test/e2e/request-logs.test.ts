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
import { refusedUpgrade } from '../helpers/realtime.js';
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
  let url: string;

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((line) => line !== ''),
        );
        done();
      },
    });
    const config = loadConfig({
      overrides: {
        host: '127.0.0.1',
        port: 0,
        dataDir,
        masterKey: Buffer.alloc(32, 5).toString('base64'),
        passwords: { memoryCost: 1024, timeCost: 1 },
      },
    });
    tessera = await createTessera({ config, logger: createLogger('info', stream) });
    firstRun = (await bootstrapFirstRun(tessera.services))!;
    url = await tessera.listen();
    api = makeApi(url);
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
    expect(mine).toEqual([
      expect.objectContaining({ msg: 'request refused', code: 'missing_credentials', status: 401 }),
      expect.objectContaining({ msg: 'request', status: 401 }),
    ]);
  });

  it('never writes a password, a token or a key', async () => {
    const email = 'logs@example.com';
    expect(
      (
        await api('POST', '/v1/apps/demo/chat/users', {
          key: firstRun.publishableKey,
          body: { email, password: PASSWORD },
        })
      ).status,
    ).toBe(201);
    const login = await api<AuthenticationResult>('POST', '/v1/apps/demo/chat/authentication', {
      key: firstRun.publishableKey,
      body: { strategy: 'local', email, password: PASSWORD },
    });
    expect(login.status).toBe(201);
    expect((await api('GET', '/v1/apps/demo/chat/me', { token: login.body.accessToken })).status).toBe(200);
    expect(
      (
        await api('POST', '/v1/apps/demo/chat/authentication', {
          key: firstRun.publishableKey,
          body: { strategy: 'local', email, password: 'a wrong password' },
        })
      ).status,
    ).toBe(401);
    const all = written.join('\n');
    expect(all).toContain('"msg":"request"');
    for (const secret of [
      PASSWORD,
      'a wrong password',
      login.body.accessToken,
      login.body.reconnectToken,
      firstRun.publishableKey,
      firstRun.secretKey,
    ])
      expect(all).not.toContain(secret);
  });

  // issue 12: any X-Request-Id was taken as the request's id, whatever its length or characters, into every log line.
  describe("a client's X-Request-Id", () => {
    const PLAIN = ['req-42_a.b:c', 'a'.repeat(64), '01HZX3:9f.retry-2'];
    const NOT_PLAIN = [
      'a'.repeat(65),
      'two words',
      '"},"admin":true,"x":"',
      'caf\u00e9',
      '<script>',
      '',
      'a,b',
      'tab\there',
    ];
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const logged = (id: string) => lines().filter((line) => line.reqId === id);

    it('is kept when short and plain: REST answers it and logs under it', async () => {
      for (const id of PLAIN) {
        const answer = await api('GET', '/v1/apps/demo/chat/me', { headers: { 'x-request-id': id } });
        expect(answer.headers.get('x-request-id'), id).toBe(id);
        expect(
          logged(id).map((line) => line.msg),
          id,
        ).toEqual(['request refused', 'request']);
      }
    });

    it('is replaced by a new id otherwise, and never written to the logs', async () => {
      for (const id of NOT_PLAIN) {
        const answer = await api('GET', '/v1/apps/demo/chat/me', { headers: { 'x-request-id': id } });
        const given = answer.headers.get('x-request-id')!;
        expect(given, id).toMatch(UUID);
        expect(
          logged(given).map((line) => line.msg),
          id,
        ).toEqual(['request refused', 'request']);
        if (id.length > 1) expect(written.join('\n'), id).not.toContain(JSON.stringify(id).slice(1, -1));
      }
    });

    it('is handled the same way by the realtime upgrade: the refusal answers and logs the id', async () => {
      const upgradeUrl = `${url.replace(/^http/, 'ws')}/v1/apps/demo/nowhere/realtime`;
      const plain = await refusedUpgrade(upgradeUrl, { 'x-request-id': 'ws-upgrade-7' });
      expect(plain).toMatchObject({ status: 404, headers: { 'x-request-id': 'ws-upgrade-7' } });
      expect(logged('ws-upgrade-7')).toEqual([
        expect.objectContaining({ msg: 'realtime upgrade refused', code: 'app_not_found', status: 404 }),
      ]);
      for (const id of NOT_PLAIN.filter((value) => value !== '')) {
        const refused = await refusedUpgrade(upgradeUrl, { 'x-request-id': id });
        const given = refused.headers['x-request-id'] as string;
        expect(given, id).toMatch(UUID);
        expect(logged(given), id).toEqual([
          expect.objectContaining({ msg: 'realtime upgrade refused', code: 'app_not_found' }),
        ]);
      }
    });
  });
});
