import { hash as bcryptHash } from '@node-rs/bcrypt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { backends } from '../helpers/backends.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PASSWORD, uniqueEmail } from '../helpers/users.js';

describe.each(backends)('password import and hashing on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.close());

  const storedHash = async (userId: string) => {
    const store = openStore({ url: server.databaseUrl, dataDir: server.dataDir });
    try {
      return (
        await store.db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow()
      ).password_hash;
    } finally {
      await store.close();
    }
  };
  const logIn = (email: string, password = PASSWORD) =>
    server.api<{ user: { id: string } }>('POST', '/v1/apps/demo/chat/authentication', {
      key: server.publishableKey,
      body: { strategy: 'local', email, password },
    });

  it('imports a user with a bcrypt hash, logs it in, and moves it to argon2id', async () => {
    const email = uniqueEmail('imported');
    const created = await server.api<{ id: string }>('POST', '/v1/apps/demo/chat/users', {
      key: server.secretKey,
      body: { email, passwordHash: await bcryptHash(PASSWORD, 4) },
    });
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('passwordHash');
    expect(await storedHash(created.body.id)).toMatch(/^\$2b\$04\$/);

    expect((await logIn(email, 'not the imported password')).body).toMatchObject({
      error: { code: 'invalid_credentials' },
    });
    expect((await logIn(email)).status).toBe(201);
    expect(await storedHash(created.body.id)).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect((await logIn(email)).status).toBe(201);
  });

  it('refuses a password hash from a publishable key, in an unknown format, or beside a password', async () => {
    const cases = [
      {
        key: server.publishableKey,
        body: { email: uniqueEmail(), passwordHash: await bcryptHash(PASSWORD, 4) },
        status: 403,
        code: 'forbidden',
      },
      {
        key: server.secretKey,
        body: { email: uniqueEmail(), passwordHash: 'md5:5f4dcc3b5aa765d61d8327deb882cf99' },
        status: 400,
        code: 'invalid_request',
      },
      {
        key: server.secretKey,
        body: { email: uniqueEmail(), password: PASSWORD, passwordHash: await bcryptHash(PASSWORD, 4) },
        status: 400,
        code: 'invalid_request',
      },
      { key: server.secretKey, body: { email: uniqueEmail() }, status: 400, code: 'invalid_request' },
    ];
    for (const { key, body, status, code } of cases) {
      const response = await server.api('POST', '/v1/apps/demo/chat/users', { key, body });
      expect(response.status, code).toBe(status);
      expect(response.body).toMatchObject({ error: { code } });
      expect((await logIn(body.email)).body, 'no user was created').toMatchObject({
        error: { code: 'invalid_credentials' },
      });
    }
  });
});

describe('a login storm past the hashing queue', () => {
  let server: TestServer;
  beforeAll(async () => {
    // One hash at a time, none waiting, and a hash slow enough that concurrent logins overlap.
    server = await startTestServer(backends[0]!, {
      passwords: { memoryCost: 32768, timeCost: 3, parallelism: 1, concurrency: 1, maxQueue: 0 },
    });
  });
  afterAll(() => server.close());

  it('answers 503 overloaded with Retry-After to the excess, logs the rest in, and stays usable', async () => {
    const email = uniqueEmail('storm');
    expect(
      (
        await server.api('POST', '/v1/apps/demo/chat/users', {
          key: server.secretKey,
          body: { email, password: PASSWORD },
        })
      ).status,
    ).toBe(201);
    const login = () =>
      server.api('POST', '/v1/apps/demo/chat/authentication', {
        key: server.publishableKey,
        body: { strategy: 'local', email, password: PASSWORD },
      });
    const answers = await Promise.all(Array.from({ length: 8 }, login));
    const refused = answers.filter((answer) => answer.status === 503);
    expect(answers.filter((answer) => answer.status === 201).length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length + answers.filter((answer) => answer.status === 201).length).toBe(8);
    for (const answer of refused) {
      expect(answer.body).toMatchObject({ error: { code: 'overloaded', status: 503 } });
      expect(answer.headers.get('retry-after')).toBe('1');
    }
    expect((await login()).status).toBe(201);
  });
});
