import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';
import { ERROR_CODES, type AuthenticationResult, type ErrorCode } from '@tessera/protocol';
import authentication, { MemoryStorage } from '@feathersjs/authentication-client';
import type * as FeathersErrors from '@feathersjs/errors';
import { feathers, type Application } from '@feathersjs/feathers';
import rest from '@feathersjs/rest-client';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, signUp, uniqueEmail } from '../helpers/users.js';

const requireHere = createRequire(import.meta.url);
// The copy of @feathersjs/errors that Feathers' REST client throws from.
const errors = createRequire(requireHere.resolve('@feathersjs/rest-client'))(
  '@feathersjs/errors',
) as typeof FeathersErrors;

/** The exports of the client setup in docs/migrate/feathers.md. */
interface DocClient {
  tesseraClient: (appUrl: string, publishableKey: string, storage?: MemoryStorage) => Application;
  resumeSession: (app: Application) => Promise<AuthenticationResult>;
}

const DOC_PAGE = new URL('../../../../docs/migrate/feathers.md', import.meta.url);

/** The ts block of docs/migrate/feathers.md marked "run by" this test. */
function docSource(): string {
  const source = /<!-- run by [^\n]*-->\n```ts\n([\s\S]*?)^```$/m.exec(readFileSync(DOC_PAGE, 'utf8'))?.[1];
  if (source === undefined) throw new Error('docs/migrate/feathers.md has no ts block marked "run by"');
  return source;
}

/**
 * docs/migrate/feathers.md's client setup, run as its reader runs it: the page's ts block is
 * compiled (types stripped) and loaded like a CommonJS module, so the page cannot drift from what
 * this test checks. Not through our tsconfig: a bundler's `rest(url)` is `rest.default(url)` there.
 */
function loadDocClient(): DocClient {
  const { outputText } = ts.transpileModule(docSource(), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const module = { exports: {} };
  const load = runInThisContext(`(function (exports, require, module) {\n${outputText}\n})`) as (
    exports: object,
    require: NodeJS.Require,
    module: object,
  ) => void;
  load(module.exports, requireHere, module);
  return module.exports as DocClient;
}

/** What a call through the Feathers client threw. */
async function failureOf(call: Promise<unknown>): Promise<FeathersErrors.FeathersError> {
  try {
    await call;
  } catch (error) {
    return error as FeathersErrors.FeathersError;
  }
  throw new Error('expected the call to fail');
}

/** Feathers' error of `Class`, with Tessera's code (and details) in `data`, as a Feathers app sees it. */
function expectFeathersError(
  error: FeathersErrors.FeathersError,
  Class: typeof FeathersErrors.FeathersError,
  code: ErrorCode,
  status: number = ERROR_CODES[code].status,
) {
  const model = new (Class as unknown as new () => FeathersErrors.FeathersError)();
  expect(error, JSON.stringify(error)).toBeInstanceOf(Class);
  expect(error).toBeInstanceOf(errors.FeathersError);
  expect(error).toMatchObject({ name: model.name, className: model.className, code: status, data: { code } });
  expect(error.message).not.toContain('[object Object]');
}

// Feathers' own client (its CommonJS default export is reached as `.default` from ESM),, pointed at the app's base URL, with no adapter of ours.
describe.each(backends)('@feathersjs/authentication-client against Tessera on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const feathersClient = (storage: MemoryStorage) => {
    const client = feathers();
    client.configure(rest.default(server.appUrl).fetch(fetch, { headers: { 'X-Tessera-Key': server.publishableKey } }));
    client.configure(authentication.default({ storage }));
    return client;
  };

  it('authenticates, re-authenticates from storage, calls the API and logs out', async () => {
    const email = uniqueEmail('feathers');
    await signUp(server, { email });
    const storage = new MemoryStorage();

    const client = feathersClient(storage);
    const result = (await client.authenticate({
      strategy: 'local',
      email,
      password: PASSWORD,
    })) as AuthenticationResult;
    expect(result).toMatchObject({
      accessToken: expect.any(String),
      authentication: { strategy: 'local' },
      user: { email },
    });
    expect(await storage.getItem('feathers-jwt')).toBe(result.accessToken);

    // A page reload: a new client with the same storage picks the session up again.
    const reloaded = feathersClient(storage);
    const resumed = (await reloaded.reAuthenticate()) as AuthenticationResult;
    expect(resumed).toMatchObject({ user: { email }, session: { id: result.session.id } });
    const me = (await reloaded.service('me').find()) as { email: string };
    expect(me.email).toBe(email);

    await reloaded.logout();
    expect(await storage.getItem('feathers-jwt')).toBeFalsy();
    const afterLogout = await server.api('GET', '/v1/apps/demo/chat/me', { token: result.accessToken });
    expect(afterLogout.body).toMatchObject({ error: { code: 'session_revoked' } });
  });

  it("rejects a wrong password with the server's error", async () => {
    const client = feathersClient(new MemoryStorage());
    await expect(
      client.authenticate({ strategy: 'local', email: uniqueEmail('nobody'), password: PASSWORD }),
    ).rejects.toMatchObject({
      error: { code: 'invalid_credentials', status: 401 },
    });
  });
});

// Issue 14, item 1: Feathers' client understands Tessera's errors.
describe('issue 14: the client setup of docs/migrate/feathers.md', () => {
  it('type-checks as a bundled app (moduleResolution bundler, strict) compiles it', () => {
    // Beside the page, so that its imports resolve from the repository's node_modules.
    const fileName = fileURLToPath(new URL('feathers-client.ts', DOC_PAGE));
    const source = docSource();
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      esModuleInterop: true,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: ['node'],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const readFile = host.readFile.bind(host);
    host.getSourceFile = (name, languageVersion, ...rest) =>
      name === fileName
        ? ts.createSourceFile(name, source, languageVersion)
        : getSourceFile(name, languageVersion, ...rest);
    host.fileExists = (name) => name === fileName || fileExists(name);
    host.readFile = (name) => (name === fileName ? source : readFile(name));
    const program = ts.createProgram([fileName], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    expect(problems).toEqual([]);
  });
});

describe.each(backends)("issue 14: Feathers' client and a Feathers app's error handling on $name", (backend) => {
  const SECOND = 1000;
  const ACCESS_TOKEN_LIFETIME = 15 * 60 * SECOND;
  const { tesseraClient, resumeSession } = loadDocClient();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const client = (storage = new MemoryStorage()) => tesseraClient(server.appUrl, server.publishableKey, storage);
  const logIn = async (storage: MemoryStorage) => {
    const email = uniqueEmail('feathers');
    await signUp(server, { email });
    return (await client(storage).authenticate({
      strategy: 'local',
      email,
      password: PASSWORD,
    })) as AuthenticationResult;
  };

  it('turns a refused login into a NotAuthenticated with the code in data, and no more', async () => {
    const refused = await failureOf(
      client().authenticate({ strategy: 'local', email: uniqueEmail('nobody'), password: PASSWORD }),
    );
    expectFeathersError(refused, errors.NotAuthenticated, 'invalid_credentials');
    expect(refused.message).toBe(ERROR_CODES.invalid_credentials.message);
    expect(refused.toJSON()).toEqual({
      name: 'NotAuthenticated',
      message: ERROR_CODES.invalid_credentials.message,
      code: 401,
      className: 'not-authenticated',
      data: { code: 'invalid_credentials' },
    });
  });

  it('drops the stored token when reAuthenticate() meets a session logged out elsewhere', async () => {
    const storage = new MemoryStorage();
    const { accessToken } = await logIn(storage);
    // Another Feathers client holding the same token logs the session out.
    const elsewhere = client();
    await elsewhere.authenticate({ strategy: 'jwt', accessToken });
    await elsewhere.logout();

    const reloaded = client(storage);
    expectFeathersError(await failureOf(reloaded.reAuthenticate()), errors.NotAuthenticated, 'session_revoked');
    expect(await storage.getItem('feathers-jwt')).toBeUndefined();
  });

  it('drops an expired access token, and the setup resumes the session with its reconnect token', async () => {
    const expiring = new MemoryStorage();
    const resuming = new MemoryStorage();
    await logIn(expiring);
    const first = await logIn(resuming);
    server.clock.advance(ACCESS_TOKEN_LIFETIME + SECOND);

    expectFeathersError(await failureOf(client(expiring).reAuthenticate()), errors.NotAuthenticated, 'token_expired');
    expect(await expiring.getItem('feathers-jwt')).toBeUndefined();

    const app = client(resuming);
    const resumed = await resumeSession(app);
    expect(resumed).toMatchObject({ authentication: { strategy: 'reconnect' }, session: { id: first.session.id } });
    expect(await resuming.getItem('feathers-jwt')).toBe(resumed.accessToken);
    expect(await resuming.getItem('tessera-reconnect-token')).toBe(resumed.reconnectToken);
    expect(((await app.service('me').find()) as { id: string }).id).toBe(first.user.id);
    await app.logout();
    expect(await resuming.getItem('tessera-reconnect-token')).toBeUndefined();
  });

  it("gives a Feathers app Feathers' error classes for Tessera's refusals", async () => {
    const app = client();
    const email = uniqueEmail('taken');
    await app.service('users').create({ email, password: PASSWORD });

    expectFeathersError(await failureOf(app.service('nothing').find()), errors.NotFound, 'route_not_found');
    const elsewhere = tesseraClient(`${server.url}/v1/apps/demo/nope`, server.publishableKey);
    expectFeathersError(await failureOf(elsewhere.service('me').find()), errors.NotFound, 'app_not_found');
    expectFeathersError(await failureOf(app.service('me').find()), errors.NotAuthenticated, 'missing_credentials');
    expectFeathersError(
      await failureOf(app.service('users').create({ email, password: PASSWORD })),
      errors.Conflict,
      'user_exists',
    );
    expectFeathersError(
      await failureOf(app.authenticate({ strategy: 'anonymous' })),
      errors.Forbidden,
      'strategy_disabled',
    );

    const unknownField = await failureOf(
      app.service('users').create({ email: uniqueEmail(), password: PASSWORD, admin: true }),
    );
    expectFeathersError(unknownField, errors.BadRequest, 'invalid_request');
    expect(unknownField.data).toEqual({
      code: 'invalid_request',
      details: [{ path: 'body', message: 'must NOT have additional properties', field: 'admin' }],
    });

    // Fastify's own refusal of a body over 64 KiB: Feathers has no 413, so the nearest class.
    const tooLarge = await failureOf(
      app.service('users').create({ email: uniqueEmail(), password: 'x'.repeat(70 * 1024) }),
    );
    expectFeathersError(tooLarge, errors.BadRequest, 'payload_too_large', 413);

    for (let failure = 1; failure <= 5; failure += 1)
      await failureOf(app.authenticate({ strategy: 'local', email, password: `wrong ${failure}` }));
    const throttled = await failureOf(app.authenticate({ strategy: 'local', email, password: PASSWORD }));
    expectFeathersError(throttled, errors.TooManyRequests, 'rate_limited');
  });

  it("answers Fastify's own refusals with the same fields", async () => {
    const malformed = await server.api('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      rawBody: '{"strategy":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.body).toMatchObject({
      error: { code: 'invalid_json', status: 400 },
      name: 'BadRequest',
      code: 400,
      className: 'bad-request',
      data: { code: 'invalid_json' },
    });
    // The router refuses a malformed or overlong URL before any route: through the same path.
    for (const path of ['/v1/apps/demo/%E0/me', `/v1/apps/demo/${'x'.repeat(101)}/me`]) {
      const answer = await server.api('GET', path);
      expect(answer.status, path).toBe(400);
      expect(answer.body, path).toMatchObject({
        error: { code: 'invalid_request', status: 400 },
        name: 'BadRequest',
        code: 400,
        className: 'bad-request',
        data: { code: 'invalid_request' },
      });
      expect(JSON.stringify(answer.body), path).not.toContain('x'.repeat(101));
      expect(answer.headers.get('x-request-id'), path).toBeTruthy();
    }
  });
});
