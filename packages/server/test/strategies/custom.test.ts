import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthenticationResult, User } from '@tessera/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { backends } from '../helpers/backends.js';
import { json, LoopbackHttpServer, type Route } from '../helpers/http-server.js';
import { LogCapture } from '../helpers/log-capture.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUp } from '../helpers/users.js';

const SECRET = 'idp-shared-secret-0123456789abcdef';

interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The app's identity provider: a real HTTP server on 127.0.0.1 answering by token. */
class IdentityProvider extends LoopbackHttpServer {
  readonly answers = new Map<string, Route>();
  readonly requests: SeenRequest[] = [];

  override async start(): Promise<void> {
    await super.start((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
        let token: unknown;
        try {
          token = (JSON.parse(body) as { token?: unknown }).token;
        } catch {
          token = undefined;
        }
        const answer = typeof token === 'string' ? this.answers.get(token) : undefined;
        if (answer === undefined) json(401, { error: 'unknown token' })(response);
        else answer(response);
      });
    });
  }
}

describe.each(backends)('custom identity-provider strategy on $name', (backend) => {
  let server: TestServer;
  const logs = new LogCapture();
  const idp = new IdentityProvider();
  let game: { publishableKey: string; secretKey: string };
  let counter = 0;
  /** A token and subject no other test uses. */
  const fresh = (prefix: string) => {
    counter += 1;
    return {
      token: `${prefix}-token-${counter}`,
      id: `${prefix}-${counter}`,
      login: `${prefix}${counter}`,
      email: `${prefix}${counter}@idp.example.com`,
    };
  };

  beforeAll(async () => {
    await idp.start();
    server = await startTestServer(backend, {}, { logs });
    game = await createApp(server, 'acme', 'game');
  });
  afterAll(async () => {
    await server.close();
    await idp.close();
  });
  beforeEach(async () => {
    await configure();
  });

  /** Sets every one of the app's `custom` settings (a patch merges into the current settings). */
  async function configure(
    overrides: Record<string, unknown> = {},
    app = 'demo/chat',
  ): Promise<Record<string, unknown>> {
    const custom = { ...fullSettings(idp.url), ...overrides };
    const response = await server.api<{ settings: { strategies: { custom: Record<string, unknown> } } }>(
      'PATCH',
      `/v1/admin/apps/${app}`,
      { token: server.adminToken, body: { settings: { strategies: { custom } } } },
    );
    if (response.status !== 200) throw new Error(`settings refused: ${JSON.stringify(response.body)}`);
    return response.body.settings.strategies.custom;
  }

  const login = (token: unknown, app = 'demo/chat', key = server.publishableKey) =>
    server.api<AuthenticationResult>('POST', `/v1/apps/${app}/authentication`, {
      key,
      body: { strategy: 'custom', token },
    });
  const identities = () =>
    server.tessera.services.store.db.selectFrom('user_identities').selectAll().orderBy('created_at').execute();
  const userCount = async () =>
    Number(
      (
        await server.tessera.services.store.db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("creates an external user from the provider's answer and logs it in", async () => {
    const who = fresh('ada');
    idp.answers.set(
      who.token,
      json(200, { id: who.id, login: who.login, email: who.email, full_name: 'Ada Lovelace' }),
    );
    const before = idp.requests.length;
    const response = await login(who.token);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body).toMatchObject({
      authentication: { strategy: 'custom' },
      user: { kind: 'external', username: who.login, email: who.email, fullName: 'Ada Lovelace' },
    });

    const seen = idp.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      path: '/verify',
      headers: { 'content-type': 'application/json', 'x-idp-secret': SECRET },
    });
    expect(JSON.parse(seen[0]!.body)).toEqual({ token: who.token });
    expect(await identities()).toContainEqual(
      expect.objectContaining({ provider: 'custom', subject: who.id, user_id: response.body.user.id }),
    );
    expect((await server.api('GET', '/v1/apps/demo/chat/me', { token: response.body.accessToken })).body).toMatchObject(
      { id: response.body.user.id },
    );
  });

  it('finds the same user again and refreshes its profile at each login', async () => {
    const who = fresh('grace');
    idp.answers.set(who.token, json(200, { id: who.id, login: who.login, email: who.email, full_name: 'Grace' }));
    const first = await login(who.token);
    server.clock.advance(1000);
    idp.answers.set(who.token, json(200, { id: who.id, login: `${who.login}-renamed`, full_name: 'Grace Hopper' }));
    const second = await login(who.token);
    expect(second.status).toBe(201);
    // Fields the provider leaves out stay as they were.
    expect(second.body.user).toMatchObject({
      id: first.body.user.id,
      username: `${who.login}-renamed`,
      email: who.email,
      fullName: 'Grace Hopper',
    });
    const stored = await server.api<User>('GET', `/v1/apps/demo/chat/users/${first.body.user.id}`, {
      key: server.secretKey,
    });
    expect(stored.body).toMatchObject({ fullName: 'Grace Hopper', username: `${who.login}-renamed` });
  });

  it('accepts an integer id and follows dotted paths of the mapping', async () => {
    const who = fresh('nested');
    await configure({ mapping: { id: 'user.uid', login: null, email: 'user.contact.mail', fullName: 'user.name' } });
    idp.answers.set(
      who.token,
      json(200, { user: { uid: 4242, login: 'ignored-login', contact: { mail: who.email }, name: 'Nested Person' } }),
    );
    const response = await login(who.token);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.user).toMatchObject({ username: null, email: who.email, fullName: 'Nested Person' });
    expect(await identities()).toContainEqual(expect.objectContaining({ provider: 'custom', subject: '4242' }));
  });

  it('refuses an unknown identity with user_not_provisioned unless provisioning is on', async () => {
    const who = fresh('nobody');
    idp.answers.set(who.token, json(200, { id: who.id, login: who.login }));
    const users = await userCount();
    await configure({ autoProvision: null });
    const refused = await login(who.token);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'user_not_provisioned' } });
    expect(await userCount()).toBe(users);

    // The app-wide switch decides when the strategy does not say…
    await server.api('PATCH', '/v1/admin/apps/demo/chat', {
      token: server.adminToken,
      body: { settings: { autoProvisionUsers: true } },
    });
    try {
      await configure({ autoProvision: false });
      expect((await login(who.token)).body).toMatchObject({ error: { code: 'user_not_provisioned' } });
      await configure({ autoProvision: null });
      const created = await login(who.token);
      expect(created.status).toBe(201);
      // …and a linked user logs in whatever provisioning says.
      await configure({ autoProvision: false });
      expect((await login(who.token)).body).toMatchObject({ user: { id: created.body.user.id } });
    } finally {
      await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        token: server.adminToken,
        body: { settings: { autoProvisionUsers: false } },
      });
    }
  });

  it('answers idp_rejected when the provider says 401, 403 or 404', async () => {
    for (const status of [401, 403, 404]) {
      const who = fresh(`rejected${status}`);
      idp.answers.set(who.token, json(status, { id: who.id, error: 'no such token' }));
      const response = await login(who.token);
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: { code: 'idp_rejected', details: { status } } });
    }
  });

  it('answers idp_unreachable, saying why, for every unusable answer', async () => {
    const who = fresh('broken');
    const cases: [string, Route, Record<string, unknown>][] = [
      ['status 500', json(500, { id: who.id }), { reason: 'bad_status', status: 500 }],
      ['status 400', json(400, { id: who.id }), { reason: 'bad_status', status: 400 }],
      ['status 204', (response) => response.writeHead(204).end(), { reason: 'bad_status', status: 204 }],
      [
        'not JSON',
        (response) => response.writeHead(200, { 'content-type': 'application/json' }).end('<html>ok</html>'),
        { reason: 'not_json' },
      ],
      ['truncated JSON', (response) => response.writeHead(200).end('{"id": "x"'), { reason: 'not_json' }],
      ['a JSON array', json(200, [{ id: who.id }]), { reason: 'not_json' }],
      [
        'not UTF-8',
        (response) => response.writeHead(200).end(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])),
        { reason: 'not_json' },
      ],
      ['no id', json(200, { login: who.login }), { reason: 'missing_id' }],
      ['an empty id', json(200, { id: '' }), { reason: 'missing_id' }],
      ['an object id', json(200, { id: { value: 1 } }), { reason: 'invalid_field', field: 'id' }],
      [
        'an id only under __proto__',
        (response) => response.writeHead(200).end('{"__proto__": {"id": "x"}}'),
        { reason: 'missing_id' },
      ],
      [
        'a login Tessera cannot use',
        json(200, { id: who.id, login: 'has spaces' }),
        { reason: 'invalid_field', field: 'login' },
      ],
      [
        'an email that is not one',
        json(200, { id: who.id, email: 'not-an-email' }),
        { reason: 'invalid_field', field: 'email' },
      ],
      [
        'a number as full name',
        json(200, { id: who.id, full_name: 42 }),
        { reason: 'invalid_field', field: 'fullName' },
      ],
      [
        'a redirect',
        (response) => response.writeHead(302, { location: `${idp.url}/elsewhere` }).end(),
        { reason: 'redirect' },
      ],
    ];
    const users = await userCount();
    for (const [name, answer, details] of cases) {
      idp.answers.set(who.token, answer);
      const response = await login(who.token);
      expect(response.status, name).toBe(502);
      expect(response.body, name).toMatchObject({ error: { code: 'idp_unreachable', details } });
      expect(JSON.stringify(response.body)).not.toContain(SECRET);
    }
    expect(idp.requests.some((request) => request.path === '/elsewhere')).toBe(false);
    expect(await userCount()).toBe(users);
  });

  it('gives up after timeoutMs on a provider that does not answer', async () => {
    const who = fresh('slow');
    await configure({ timeoutMs: 150 });
    idp.answers.set(who.token, idp.hold());
    const response = await login(who.token);
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({ error: { code: 'idp_unreachable', details: { reason: 'timeout' } } });
  });

  it('gives up on a provider that starts answering but does not finish in time', async () => {
    const who = fresh('trickle');
    await configure({ timeoutMs: 150 });
    idp.answers.set(who.token, (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"id": ');
      idp.hold()(response);
    });
    expect((await login(who.token)).body).toMatchObject({
      error: { code: 'idp_unreachable', details: { reason: 'timeout' } },
    });
  });

  it('stops reading an answer larger than maxResponseBytes', async () => {
    const who = fresh('huge');
    await configure({ maxResponseBytes: 1024 });
    const total = 8 * 1024 * 1024;
    let written = 0;
    let cutShort: Promise<boolean> = Promise.resolve(false);
    idp.answers.set(who.token, (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      cutShort = new Promise((resolve) => response.on('close', () => resolve(!response.writableFinished)));
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = () => {
        while (written < total && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        if (!response.destroyed) response.end();
      };
      pump();
    });
    const response = await login(who.token);
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({
      error: { code: 'idp_unreachable', details: { reason: 'too_large', limit: 1024 } },
    });
    expect(await cutShort).toBe(true);
    expect(written).toBeLessThan(total);

    // A declared length over the limit is refused before reading anything.
    idp.answers.set(who.token, (response) =>
      response.writeHead(200, { 'content-length': '5000' }).end(' '.repeat(5000)),
    );
    expect((await login(who.token)).body).toMatchObject({
      error: { code: 'idp_unreachable', details: { reason: 'too_large' } },
    });
    // Right at the limit is fine.
    const body = JSON.stringify({ id: who.id, pad: '' });
    idp.answers.set(who.token, (response) =>
      response.writeHead(200).end(JSON.stringify({ id: who.id, pad: 'x'.repeat(1024 - body.length) })),
    );
    expect((await login(who.token)).status).toBe(201);
  });

  it('answers idp_unreachable when nothing listens at the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await configure({ url: `http://127.0.0.1:${port}/verify` });
    expect((await login('any-token')).body).toMatchObject({
      error: { code: 'idp_unreachable', status: 502, details: { reason: 'network_error' } },
    });
  });

  it('logs a webhook call that gave no usable answer at warn, without token, headers or query (issue 13)', async () => {
    const QUERY_SECRET = 'query-secret-5f1e0c';
    await configure({ url: `${idp.url}/verify?key=${QUERY_SECRET}`, timeoutMs: 150 });
    const failed = 'identity provider webhook could not be used';
    const cases: [string, Route, Record<string, unknown>][] = [
      ['status 500', json(500, {}), { reason: 'status', status: 500 }],
      ['a redirect', (response) => response.writeHead(302, { location: `${idp.url}/x` }).end(), { reason: 'redirect' }],
      ['a JSON array', json(200, []), { reason: 'not_json' }],
      ['no answer', idp.hold(), { reason: 'timeout' }],
    ];
    for (const [name, answer, facts] of cases) {
      const who = fresh('logged');
      idp.answers.set(who.token, answer);
      const before = logs.withMessage(failed).length;
      expect((await login(who.token)).status, name).toBe(502);
      const lines = logs.withMessage(failed).slice(before);
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatchObject({
        level: 40,
        app: 'demo/chat',
        strategy: 'custom',
        url: `${idp.url}/verify`,
        ...facts,
      });
      expect(logs.text).not.toContain(who.token);
    }
    // The provider's verdict on a token is an answer, not a failure: no warning.
    const rejected = fresh('rejected');
    const before = logs.withMessage(failed).length;
    expect((await login(rejected.token)).body).toMatchObject({ error: { code: 'idp_rejected' } });
    expect(logs.withMessage(failed)).toHaveLength(before);
    for (const secret of [SECRET, QUERY_SECRET, rejected.token]) expect(logs.text).not.toContain(secret);
  });

  it('refuses a disabled user with user_disabled', async () => {
    const who = fresh('disabled');
    idp.answers.set(who.token, json(200, { id: who.id }));
    const first = await login(who.token);
    expect(first.status).toBe(201);
    await server.api('PATCH', `/v1/apps/demo/chat/users/${first.body.user.id}`, {
      key: server.secretKey,
      body: { disabled: true },
    });
    expect((await login(who.token)).body).toMatchObject({ error: { code: 'user_disabled', status: 401 } });
  });

  it('leaves out a login or email that belongs to another user: no failure, no link to that user, an info log', async () => {
    const taken = await signUp(server, { username: `taken${counter}` });
    const who = fresh('clash');
    idp.answers.set(
      who.token,
      json(200, { id: who.id, login: taken.username, email: taken.email, full_name: 'Clash' }),
    );
    const info = vi.spyOn(server.tessera.logger, 'info');
    try {
      const response = await login(who.token);
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(response.body.user).toMatchObject({ kind: 'external', username: null, email: null, fullName: 'Clash' });
      expect(response.body.user.id).not.toBe(taken.id);
      expect(await identities()).toContainEqual(
        expect.objectContaining({ provider: 'custom', subject: who.id, user_id: response.body.user.id }),
      );
      const logged = info.mock.calls.filter(
        ([fields]) =>
          typeof fields === 'object' &&
          fields !== null &&
          'userId' in fields &&
          fields.userId === response.body.user.id,
      );
      expect(logged).toHaveLength(1);
      expect(logged[0]![0]).toMatchObject({
        provider: 'custom',
        userId: response.body.user.id,
        fields: ['username', 'email'],
      });
      // The values themselves are personal data: never in the log.
      expect(JSON.stringify(logged)).not.toContain(taken.username);
      expect(JSON.stringify(logged)).not.toContain(taken.email);

      // A linked user whose provider later sends another user's email keeps its own, and the rest follows.
      server.clock.advance(1000);
      const owner = await signUp(server, { username: `owner${counter}` });
      idp.answers.set(
        who.token,
        json(200, { id: who.id, login: `${who.login}-own`, email: owner.email, full_name: 'Clash Renamed' }),
      );
      const again = await login(who.token);
      expect(again.status).toBe(201);
      expect(again.body.user).toMatchObject({
        id: response.body.user.id,
        username: `${who.login}-own`,
        email: null,
        fullName: 'Clash Renamed',
      });
      expect(
        info.mock.calls.some(
          ([fields]) =>
            typeof fields === 'object' &&
            fields !== null &&
            'fields' in fields &&
            JSON.stringify(fields.fields) === '["email"]',
        ),
      ).toBe(true);
      // The other users are untouched.
      const kept = await server.api<User>('GET', `/v1/apps/demo/chat/users/${taken.id}`, { key: server.secretKey });
      expect(kept.body).toMatchObject({ username: taken.username, email: taken.email });
    } finally {
      info.mockRestore();
    }
  });

  it('makes one user when the first two logins of an identity race', async () => {
    const who = fresh('race');
    idp.answers.set(who.token, json(200, { id: who.id, login: who.login, email: who.email }));
    const users = await userCount();
    const answers = await Promise.all([login(who.token), login(who.token), login(who.token)]);
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const ids = new Set(answers.map((answer) => answer.body.user.id));
    expect(ids.size).toBe(1);
    expect(await userCount()).toBe(users + 1);
    const [id] = ids;
    // Whichever request linked first, the user ends up with the provider's login and email.
    expect((await login(who.token)).body.user).toMatchObject({ id, username: who.login, email: who.email });
  });

  it('is off until the app enables it, and validates its input before calling the provider', async () => {
    await configure({ enabled: false });
    expect((await login('whatever')).body).toMatchObject({ error: { code: 'strategy_disabled', status: 403 } });
    await configure();
    const before = idp.requests.length;
    for (const body of [
      { strategy: 'custom' },
      { strategy: 'custom', token: '' },
      { strategy: 'custom', token: 7 },
      { strategy: 'custom', token: 'x'.repeat(8193) },
      { strategy: 'custom', token: 'a', login: 'b' },
    ]) {
      const response = await server.api('POST', '/v1/apps/demo/chat/authentication', {
        key: server.publishableKey,
        body,
      });
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
    expect(idp.requests.length).toBe(before);
  });

  it('fills defaults, masks the headers in the admin API and refuses bad settings unchanged', async () => {
    // Enabled with no URL is refused…
    const noUrl = await server.api('PATCH', '/v1/admin/apps/acme/game', {
      token: server.adminToken,
      body: { settings: { strategies: { custom: { enabled: true } } } },
    });
    expect(noUrl.body).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('url is required') },
    });
    // …and the URL is the only setting without a default.
    await server.api('PATCH', '/v1/admin/apps/acme/game', {
      token: server.adminToken,
      body: { settings: { strategies: { custom: { enabled: true, url: `${idp.url}/game` } } } },
    });
    const defaults = await server.api<{ settings: { strategies: { custom: unknown } } }>(
      'GET',
      '/v1/admin/apps/acme/game',
      { token: server.adminToken },
    );
    expect(defaults.body.settings.strategies.custom).toEqual({
      enabled: true,
      url: `${idp.url}/game`,
      timeoutMs: 3000,
      maxResponseBytes: 65536,
      headers: [],
      mapping: { id: 'id', login: 'login', email: 'email', fullName: 'full_name' },
      autoProvision: null,
    });

    const headers = [
      { name: 'X-Idp-Secret', value: SECRET },
      { name: 'X-Short', value: 'abc' },
    ];
    const shown = await configure({ headers });
    expect(shown.headers).toEqual([
      { name: 'X-Idp-Secret', value: `••••••••${SECRET.slice(-4)}` },
      { name: 'X-Short', value: '••••••••' },
    ]);
    const read = await server.api<{ settings: { strategies: { custom: unknown } } }>(
      'GET',
      '/v1/admin/apps/demo/chat',
      { token: server.adminToken },
    );
    expect(read.body.settings.strategies.custom).toEqual(shown);
    const listed = await server.api('GET', '/v1/admin/apps', { token: server.adminToken });
    for (const text of [JSON.stringify(read.body), JSON.stringify(listed.body)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('"abc"');
    }

    const bad: Record<string, unknown>[] = [
      { url: 'ftp://idp.example.com/verify' },
      { url: 'http://user:password@idp.example.com/verify' },
      { url: 'not a url' },
      { timeoutMs: 50 },
      { timeoutMs: 60_000 },
      { maxResponseBytes: 10 },
      { maxResponseBytes: 10 * 1024 * 1024 },
      { headers: [{ name: 'Content-Type', value: 'text/plain' }] },
      { headers: [{ name: 'host', value: 'evil.example.com' }] },
      { headers: [{ name: 'Bad Name', value: 'x' }] },
      { headers: [{ name: 'X-Secret', value: 'line\r\nInjected: 1' }] },
      {
        headers: [
          { name: 'X-A', value: '1' },
          { name: 'x-a', value: '2' },
        ],
      },
      { headers: { 'X-Idp-Secret': SECRET } },
      // The masked values read back and sent again must not replace the secrets.
      { headers: shown.headers },
      { mapping: { id: null } },
      { mapping: { id: 'a..b' } },
      { mapping: { extra: 'x' } },
      { autoProvision: 'yes' },
      { surprise: true },
    ];
    for (const overrides of bad) {
      const custom = { ...fullSettings(idp.url), ...overrides };
      const response = await server.api('PATCH', '/v1/admin/apps/demo/chat', {
        token: server.adminToken,
        body: { settings: { strategies: { custom } } },
      });
      expect(response.status, JSON.stringify(overrides)).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
    const after = await server.api<{ settings: { strategies: { custom: unknown } } }>(
      'GET',
      '/v1/admin/apps/demo/chat',
      { token: server.adminToken },
    );
    expect(after.body.settings.strategies.custom).toEqual(shown);
    // The real secret is still the one sent to the provider.
    const who = fresh('secret');
    idp.answers.set(who.token, json(200, { id: who.id }));
    await login(who.token);
    expect(idp.requests.at(-1)?.headers['x-idp-secret']).toBe(SECRET);
  });

  it('keeps apps apart: the same identity is a different user in each app', async () => {
    const who = fresh('twin');
    idp.answers.set(who.token, json(200, { id: who.id, login: who.login }));
    const inDemo = await login(who.token);
    expect(inDemo.status).toBe(201);

    // Linked in demo/chat is not linked in acme/game, which does not provision.
    await configure({ autoProvision: false }, 'acme/game');
    expect((await login(who.token, 'acme/game', game.publishableKey)).body).toMatchObject({
      error: { code: 'user_not_provisioned' },
    });
    await configure({ autoProvision: true, url: `${idp.url}/game` }, 'acme/game');
    const inGame = await login(who.token, 'acme/game', game.publishableKey);
    expect(inGame.status).toBe(201);
    expect(inGame.body.user.id).not.toBe(inDemo.body.user.id);
    expect(idp.requests.at(-1)?.path).toBe('/game');
    expect(
      (await server.api('GET', `/v1/apps/acme/game/users/${inDemo.body.user.id}`, { key: game.secretKey })).body,
    ).toMatchObject({ error: { code: 'user_not_found' } });
    // Disabling it in one app leaves the other alone.
    await configure({ enabled: false }, 'acme/game');
    expect((await login(who.token, 'acme/game', game.publishableKey)).body).toMatchObject({
      error: { code: 'strategy_disabled' },
    });
    expect((await login(who.token)).status).toBe(201);
    // A key of one app never logs in to the other.
    expect((await login(who.token, 'demo/chat', game.publishableKey)).body).toMatchObject({
      error: { code: 'invalid_api_key' },
    });
  });
});

/** Every setting of the strategy, so that each test starts from the same place whatever ran before. */
function fullSettings(idpUrl: string): Record<string, unknown> {
  return {
    enabled: true,
    url: `${idpUrl}/verify`,
    timeoutMs: 3000,
    maxResponseBytes: 64 * 1024,
    headers: [{ name: 'X-Idp-Secret', value: SECRET }],
    mapping: { id: 'id', login: 'login', email: 'email', fullName: 'full_name' },
    autoProvision: true,
  };
}

async function createApp(
  server: TestServer,
  namespace: string,
  name: string,
): Promise<{ publishableKey: string; secretKey: string }> {
  const admin = { token: server.adminToken };
  expect((await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: namespace } })).status).toBe(201);
  expect(
    (await server.api('POST', `/v1/admin/namespaces/${namespace}/apps`, { ...admin, body: { name } })).status,
  ).toBe(201);
  const key = async (kind: string) =>
    (
      await server.api<{ key: string }>('POST', `/v1/admin/apps/${namespace}/${name}/keys`, {
        ...admin,
        body: { kind },
      })
    ).body.key;
  return { publishableKey: await key('publishable'), secretKey: await key('secret') };
}
