import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, FetchJsonError, type FetchJsonRequest } from '../../src/auth/remote/fetch-json.js';
import { LoopbackHttpServer } from '../helpers/http-server.js';
import { IssuerServer, json } from '../helpers/jwt.js';

// Issue 13, item 6: one outbound fetch, one failure vocabulary, every failure against a real server.

async function failureOf(request: FetchJsonRequest): Promise<FetchJsonError> {
  const error = await fetchJson(request).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(FetchJsonError);
  return error as FetchJsonError;
}

describe('fetchJson (issue 13)', () => {
  const web = new IssuerServer();
  const bodies = new Map<string, { method: string; headers: Record<string, unknown>; body: string }>();
  const echo = new LoopbackHttpServer();
  const get = (path: string, maxBytes = 1024): FetchJsonRequest => ({
    url: `${web.url}${path}`,
    timeoutMs: 2000,
    maxBytes,
  });

  beforeAll(async () => {
    await web.start();
    await echo.start((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        bodies.set(request.url ?? '', { method: request.method ?? '', headers: request.headers, body });
        json(200, { ok: true })(response);
      });
    });
  });
  afterAll(async () => {
    await web.close();
    await echo.close();
  });

  it('GETs the JSON of a 200 answer', async () => {
    web.routes.set('/ok', json(200, { keys: [1, 2] }));
    expect(await fetchJson(get('/ok'))).toEqual({ keys: [1, 2] });
  });

  it("POSTs a JSON body with the caller's headers; content-type and accept are its own", async () => {
    const answer = await fetchJson({
      url: `${echo.url}/hook`,
      method: 'POST',
      body: { token: 't' },
      headers: [
        { name: 'x-secret', value: 's3' },
        { name: 'content-type', value: 'text/plain' },
      ],
      timeoutMs: 2000,
      maxBytes: 1024,
    });
    expect(answer).toEqual({ ok: true });
    expect(bodies.get('/hook')).toMatchObject({
      method: 'POST',
      body: '{"token":"t"}',
      headers: { 'x-secret': 's3', 'content-type': 'application/json', accept: 'application/json' },
    });
  });

  it('gives up with timeout on an answer slower than timeoutMs', async () => {
    web.routes.set('/slow', web.hold());
    expect(await failureOf({ ...get('/slow'), timeoutMs: 50 })).toMatchObject({ reason: 'timeout' });
  });

  it('gives up with timeout on a body that stops half-way', async () => {
    web.routes.set('/stalled', (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"keys":');
    });
    expect(await failureOf({ ...get('/stalled'), timeoutMs: 100 })).toMatchObject({ reason: 'timeout' });
  });

  it('says network when nothing listens', async () => {
    const gone = new LoopbackHttpServer();
    await gone.start((_request, response) => response.end());
    const url = gone.url;
    await gone.close();
    expect(await failureOf({ url, timeoutMs: 2000, maxBytes: 1024 })).toMatchObject({ reason: 'network' });
  });

  it('refuses a redirect without following it', async () => {
    web.routes.set('/target', json(200, {}));
    web.routes.set('/moved', (response) => response.writeHead(302, { location: `${web.url}/target` }).end());
    expect(await failureOf(get('/moved'))).toMatchObject({ reason: 'redirect' });
    expect(web.count('/target')).toBe(0);
  });

  it('says status, with the status, for any answer but 200', async () => {
    web.routes.set('/broken', json(500, { error: 'oops' }));
    web.routes.set('/created', json(201, { keys: [] }));
    expect(await failureOf(get('/broken'))).toMatchObject({ reason: 'status', status: 500 });
    expect(await failureOf(get('/created'))).toMatchObject({ reason: 'status', status: 201 });
  });

  it('refuses a body over maxBytes, declared or streamed without a content-length', async () => {
    web.routes.set('/declared', json(200, { padding: 'x'.repeat(2000) }));
    web.routes.set('/chunked', (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let chunk = 0; chunk < 20; chunk += 1) response.write(chunk === 0 ? '{"padding":"' : 'x'.repeat(200));
      response.end('"}');
    });
    expect(await failureOf(get('/declared'))).toMatchObject({ reason: 'too_large' });
    expect(await failureOf(get('/chunked'))).toMatchObject({ reason: 'too_large' });
    // Exactly at the limit is fine.
    const body = JSON.stringify({ padding: 'x'.repeat(100) });
    web.routes.set('/exact', (response) => response.writeHead(200).end(body));
    expect(await fetchJson(get('/exact', Buffer.byteLength(body)))).toEqual({ padding: 'x'.repeat(100) });
  });

  it('says not_json for a body that is not JSON, or not UTF-8', async () => {
    web.routes.set('/html', (response) => response.writeHead(200).end('<html>'));
    web.routes.set('/latin1', (response) => response.writeHead(200).end(Buffer.from([0x22, 0xe9, 0x22])));
    web.routes.set('/empty', (response) => response.writeHead(200).end());
    expect(await failureOf(get('/html'))).toMatchObject({ reason: 'not_json' });
    expect(await failureOf(get('/latin1'))).toMatchObject({ reason: 'not_json' });
    expect(await failureOf(get('/empty'))).toMatchObject({ reason: 'not_json' });
  });
});
