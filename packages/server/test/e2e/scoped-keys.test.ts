import {
  SCOPE_NAMES,
  type AuthenticationResult,
  type CreatedAuthToken,
  type Scope,
  type User,
} from '@tessera/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config/index.js';
import { hashSecret } from '../../src/lib/opaque-token.js';
import { createLogger } from '../../src/logger.js';
import { closeServices, openServices } from '../../src/tessera.js';
import { createApp, type TestApp } from '../helpers/apps.js';
import { backends } from '../helpers/backends.js';
import { TEST_MASTER_KEY, startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

/**
 * Issue 14, item 4: scoped secret keys. CometChat gives a backend a full-access REST key and an
 * auth-only one; Tessera's secret keys carry scopes, a call outside them answers 403
 * insufficient_scope, and keys made before scopes existed keep full access.
 */
interface ListedKey {
  id: string;
  kind: string;
  label: string | null;
  scopes: Scope[] | null;
}
interface CreatedKey extends ListedKey {
  key: string;
}

/** Every route that takes a secret key, with the scope it needs (publishable-scope routes: for a secret key). */
const ROUTES: { method: string; path: string; scope: Scope; body?: unknown }[] = [
  { method: 'POST', path: '/users', scope: 'users:write', body: { email: 'scoped@example.com', password: PASSWORD } },
  { method: 'GET', path: '/users', scope: 'users:read' },
  { method: 'GET', path: '/users/{userId}', scope: 'users:read' },
  { method: 'PATCH', path: '/users/{userId}', scope: 'users:write', body: { fullName: 'Scoped' } },
  { method: 'DELETE', path: '/users/{userId}', scope: 'users:write' },
  { method: 'GET', path: '/users/{userId}/sessions', scope: 'sessions:read' },
  { method: 'DELETE', path: '/users/{userId}/sessions', scope: 'sessions:write' },
  { method: 'DELETE', path: '/users/{userId}/sessions/{sessionId}', scope: 'sessions:write' },
  { method: 'POST', path: '/users/{userId}/auth-tokens', scope: 'auth-tokens:write', body: {} },
  { method: 'GET', path: '/users/{userId}/auth-tokens', scope: 'auth-tokens:read' },
  { method: 'DELETE', path: '/users/{userId}/auth-tokens/{tokenId}', scope: 'auth-tokens:write' },
  { method: 'POST', path: '/introspect', scope: 'sessions:read', body: { token: 'not.a.jwt' } },
];

/** Signup sits with login in the publishable scope; the other routes take only the secret key. */
const signsUp = (route: { method: string; path: string }) => route.method === 'POST' && route.path === '/users';

describe.each(backends)('scoped secret keys (issue 14) on $name', (backend) => {
  let server: TestServer;
  let app: TestApp;
  const admin = () => ({ token: server.adminToken });

  beforeAll(async () => {
    server = await startTestServer(backend);
    app = await createApp(server, { strategies: { 'auth-token': { enabled: true } } });
  });
  afterAll(() => server.close());

  const createKey = (body: Record<string, unknown>) =>
    server.api<CreatedKey>('POST', `/v1/admin/apps/${app.namespace}/${app.name}/keys`, { ...admin(), body });
  const scopedKey = async (scopes: Scope[], label = 'scoped'): Promise<string> => {
    const created = await createKey({ kind: 'secret', label, scopes });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.key;
  };
  const newUser = async (): Promise<User> => {
    const response = await server.api<User>('POST', `${app.path}/users`, {
      key: app.secretKey,
      body: { email: uniqueEmail('scoped'), password: PASSWORD },
    });
    expect(response.status).toBe(201);
    return response.body;
  };
  const insufficient = (required: Scope) => ({
    status: 403,
    body: { error: { code: 'insufficient_scope', status: 403, details: { required } } },
  });

  it('lets a CometChat-style auth-only key make auth tokens, and nothing else', async () => {
    const authOnly = await scopedKey(['auth-tokens:write'], 'auth only');
    const user = await newUser();

    const made = await server.api<CreatedAuthToken>('POST', `${app.path}/users/${user.id}/auth-tokens`, {
      key: authOnly,
      body: { label: 'chat client' },
    });
    expect(made.status).toBe(201);
    const login = await server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
      key: app.publishableKey,
      body: { strategy: 'auth-token', token: made.body.token },
    });
    expect(login.status).toBe(201);
    expect(login.body.user.id).toBe(user.id);

    const signup = await server.api('POST', `${app.path}/users`, {
      key: authOnly,
      body: { email: uniqueEmail('cometchat'), password: PASSWORD },
    });
    expect(signup).toMatchObject(insufficient('users:write'));
    expect(await server.api('DELETE', `${app.path}/users/${user.id}`, { key: authOnly })).toMatchObject(
      insufficient('users:write'),
    );
    expect(await server.api('GET', `${app.path}/users`, { key: authOnly })).toMatchObject(insufficient('users:read'));
    // Refused before anything happened: the user is still there.
    expect((await server.api('GET', `${app.path}/users/${user.id}`, { key: app.secretKey })).status).toBe(200);
  });

  it('lets a read-only key list users but not disable them', async () => {
    const readOnly = await scopedKey(['users:read'], 'read only');
    const user = await newUser();
    const listed = await server.api<{ items: User[] }>('GET', `${app.path}/users?limit=200`, { key: readOnly });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item) => item.id)).toContain(user.id);
    expect((await server.api('GET', `${app.path}/users/${user.id}`, { key: readOnly })).status).toBe(200);

    const disable = await server.api('PATCH', `${app.path}/users/${user.id}`, {
      key: readOnly,
      body: { disabled: true },
    });
    expect(disable).toMatchObject(insufficient('users:write'));
    expect(disable.body).toMatchObject({ error: { message: expect.stringContaining('users:write') } });
    const after = await server.api<User>('GET', `${app.path}/users/${user.id}`, { key: readOnly });
    expect(after.body.disabled).toBe(false);
  });

  it("checks each secret-key route's declared scope, after the key itself", async () => {
    const user = await newUser();
    const concrete = (path: string) =>
      `${app.path}${path.replace('{userId}', user.id).replace(/\{(sessionId|tokenId)\}/, 'nope')}`;
    const failures: string[] = [];
    for (const route of ROUTES) {
      const others = SCOPE_NAMES.filter((scope) => scope !== route.scope);
      const withOthers = await server.api(route.method, concrete(route.path), {
        key: await scopedKey(others),
        ...(route.body === undefined ? {} : { body: route.body }),
      });
      const withIt = await server.api(route.method, concrete(route.path), {
        key: await scopedKey([route.scope]),
        ...(route.body === undefined
          ? {}
          : { body: signsUp(route) ? { ...route.body, email: uniqueEmail() } : route.body }),
      });
      const code = (response: { body: unknown }) => (response.body as { error?: { code: string } } | null)?.error?.code;
      if (withOthers.status !== 403 || code(withOthers) !== 'insufficient_scope')
        failures.push(`${route.method} ${route.path} without ${route.scope}: ${withOthers.status}`);
      if (code(withIt) === 'insufficient_scope' || code(withIt) === 'forbidden')
        failures.push(`${route.method} ${route.path} with ${route.scope}: ${withIt.status}`);
    }
    expect(failures).toEqual([]);
    // A made-up key is refused as before, never with insufficient_scope.
    const forged = await server.api('GET', `${app.path}/users`, { key: `sk_${'a'.repeat(16)}.${'b'.repeat(43)}` });
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
  });

  it('keeps full access for a key made without scopes, and for one stored before scopes existed', async () => {
    // The app's first secret key was made without scopes; this one is written as a key made before migration 0005 was.
    const id = 'oldkey0123456789';
    const secret = 'o'.repeat(43);
    const [stored] = await server.tessera.services.store.db
      .selectFrom('apps')
      .innerJoin('namespaces', 'namespaces.id', 'apps.namespace_id')
      .select('apps.id')
      .where('namespaces.name', '=', app.namespace)
      .execute();
    await server.tessera.services.store.db
      .insertInto('api_keys')
      .values({
        id,
        app_id: stored!.id,
        kind: 'secret',
        label: 'from before',
        secret_hash: hashSecret(secret),
        created_at: server.clock.now(),
      })
      .execute();
    const oldKey = `sk_${id}.${secret}`;
    for (const key of [app.secretKey, oldKey]) {
      const user = await newUser();
      const base = `${app.path}/users/${user.id}`;
      const answers = [
        await server.api('GET', `${app.path}/users`, { key }),
        await server.api('PATCH', base, { key, body: { fullName: 'From before' } }),
        await server.api('GET', `${base}/sessions`, { key }),
        await server.api('DELETE', `${base}/sessions`, { key }),
        await server.api('POST', `${base}/auth-tokens`, { key, body: {} }),
        await server.api('GET', `${base}/auth-tokens`, { key }),
        await server.api('DELETE', base, { key }),
        await server.api('POST', `${app.path}/users`, { key, body: { email: uniqueEmail('old'), password: PASSWORD } }),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 201, 200, 204, 201]);
    }
    const listed = await server.api<{ items: ListedKey[] }>(
      'GET',
      `/v1/admin/apps/${app.namespace}/${app.name}/keys`,
      admin(),
    );
    expect(listed.body.items.find((key) => key.id === id)).toMatchObject({ scopes: null });
  });

  it('makes and lists scoped keys with the admin API, and refuses unknown scopes by name', async () => {
    const created = await createKey({ kind: 'secret', label: 'reporting', scopes: ['sessions:read', 'users:read'] });
    expect(created.status).toBe(201);
    // Kept in the vocabulary's order, whatever order they were asked in.
    expect(created.body).toMatchObject({ kind: 'secret', label: 'reporting', scopes: ['users:read', 'sessions:read'] });
    const listed = await server.api<{ items: ListedKey[] }>(
      'GET',
      `/v1/admin/apps/${app.namespace}/${app.name}/keys`,
      admin(),
    );
    const byId = new Map(listed.body.items.map((key) => [key.id, key]));
    expect(byId.get(created.body.id)?.scopes).toEqual(['users:read', 'sessions:read']);
    expect(listed.body.items.filter((key) => key.kind === 'publishable').map((key) => key.scopes)).toEqual([[]]);
    expect(listed.body.items.find((key) => key.kind === 'secret' && key.label === null)?.scopes).toBeNull();

    const unknown = await createKey({ kind: 'secret', scopes: ['users:read', 'users:delete'] });
    expect(unknown).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: expect.stringContaining('"users:delete"'),
          details: [{ path: '/scopes/1', message: 'unknown scope "users:delete"' }],
        },
      },
    });
    const publishable = await createKey({ kind: 'publishable', scopes: ['users:read'] });
    expect(publishable).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const none = await createKey({ kind: 'secret', scopes: [] });
    expect(none).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });

  it('documents the scope of each secret-key route and the 403 insufficient_scope in the OpenAPI document', async () => {
    type Operation = {
      description?: string;
      security?: Record<string, string[]>[];
      responses: Record<string, { description?: string }>;
    };
    const { body } = await server.api<{ paths: Record<string, Record<string, Operation>> }>('GET', '/docs/json');
    for (const route of ROUTES) {
      const operation = body.paths[`/v1/apps/{namespace}/{app}${route.path}`]?.[route.method.toLowerCase()];
      expect(operation?.description, `${route.method} ${route.path}`).toContain(`\`${route.scope}\``);
      expect(operation?.responses['403']?.description).toContain('insufficient_scope');
      if (!signsUp(route)) expect(operation?.security).toEqual([{ apiKey: [route.scope] }]);
    }
  });
});

describe.each(backends)('scoped secret keys from the CLI (issue 14) on $name', (backend) => {
  let env: Record<string, string>;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    const provisioned = await backend.provision();
    dispose = provisioned.dispose;
    env = { TESSERA_DATA_DIR: provisioned.dataDir, TESSERA_MASTER_KEY: TEST_MASTER_KEY };
    if (provisioned.databaseUrl !== undefined) env.TESSERA_DATABASE_URL = provisioned.databaseUrl;
  });
  afterEach(() => dispose());

  const tessera = async (args: string[]): Promise<string> => {
    const out: string[] = [];
    const program = buildProgram({
      env,
      stdout: (text) => out.push(text),
      stderr: () => undefined,
      readStdin: () => Promise.resolve(''),
    });
    await program.parseAsync(['node', 'tessera', ...args]);
    return out.join('');
  };

  it('makes a scoped key with --scope, repeated or comma-separated, and lists every key with its scopes', async () => {
    await tessera(['app', 'create', 'acme/chat']);
    const token = (
      await tessera([
        'key',
        'create',
        'acme/chat',
        '--kind',
        'secret',
        '--label',
        'auth-only',
        '--scope',
        'auth-tokens:write',
      ])
    ).trim();
    const reporting = (
      await tessera([
        'key',
        'create',
        'acme/chat',
        '--kind',
        'secret',
        '--scope',
        'sessions:read,users:read',
        '--scope',
        'users:read',
      ])
    ).trim();
    const lines = (await tessera(['key', 'list', 'acme/chat'])).trim().split('\n');
    // Keys made in the same millisecond list in any order.
    expect(lines.map((line) => line.split('\t').slice(1).join(' | ')).sort()).toEqual([
      'publishable | active | created by tessera app create | -',
      'secret | active |  | users:read,sessions:read',
      'secret | active | auth-only | auth-tokens:write',
      'secret | active | created by tessera app create | all',
    ]);

    const services = await openServices({ config: loadConfig({ env }), logger: createLogger('silent') });
    try {
      const app = await services.apps.getApp('acme', 'chat');
      expect((await services.apps.authenticateKey(app, token)).scopes).toEqual(['auth-tokens:write']);
      expect((await services.apps.authenticateKey(app, reporting)).scopes).toEqual(['users:read', 'sessions:read']);
    } finally {
      await closeServices(services);
    }
  });

  it('refuses an unknown scope by name, and scopes on a publishable key', async () => {
    await tessera(['app', 'create', 'acme/chat']);
    await expect(
      tessera(['key', 'create', 'acme/chat', '--kind', 'secret', '--scope', 'users:read,users:delete']),
    ).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('"users:delete"') });
    await expect(
      tessera(['key', 'create', 'acme/chat', '--kind', 'publishable', '--scope', 'users:read']),
    ).rejects.toMatchObject({ code: 'invalid_request' });
    expect((await tessera(['key', 'list', 'acme/chat'])).trim().split('\n')).toHaveLength(2);
  });
});
