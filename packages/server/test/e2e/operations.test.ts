import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(backends)('health, readiness and the OpenAPI document on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  it('answers /healthz and /readyz', async () => {
    expect(await server.api('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await server.api('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('echoes a request id, or makes one', async () => {
    const given = await server.api('GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await server.api('GET', '/healthz');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('publishes an OpenAPI document generated from the route schemas', async () => {
    const { status, body } = await server.api<{
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    }>('GET', '/docs/json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const login = body.paths['/v1/apps/{namespace}/{app}/authentication']?.post;
    expect(login?.requestBody).toBeDefined();
    expect(Object.keys(login?.responses ?? {})).toEqual(expect.arrayContaining(['201', '401']));
    // Every route that checks a credential may refuse a caller past its failed checks (issue 12).
    expect(Object.keys(body.paths['/v1/apps/{namespace}/{app}/me']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '401', '429']),
    );
    for (const path of [
      '/v1/apps/{namespace}/{app}/users',
      '/v1/apps/{namespace}/{app}/me',
      '/v1/apps/{namespace}/{app}/me/sessions',
      '/v1/admin/namespaces',
      '/v1/apps/{namespace}/{app}/.well-known/jwks.json',
    ]) {
      expect(body.paths[path], path).toBeDefined();
    }
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBeLessThan(400);
  });
});
