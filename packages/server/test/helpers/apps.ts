import { randomBytes } from 'node:crypto';
import type { AuthenticationResult, User } from '@tessera/protocol';
import type { TestServer } from './server.js';
import { PASSWORD, uniqueEmail } from './users.js';

export interface TestApp {
  namespace: string;
  name: string;
  /** `/v1/apps/{namespace}/{name}` */
  path: string;
  publishableKey: string;
  secretKey: string;
}

/** A new app in a namespace of its own, with the given settings and a key of each kind. */
export async function createApp(server: TestServer, settings: Record<string, unknown> = {}): Promise<TestApp> {
  const admin = { token: server.adminToken };
  const namespace = `ns-${randomBytes(4).toString('hex')}`;
  const name = 'app';
  const created = [
    await server.api('POST', '/v1/admin/namespaces', { ...admin, body: { name: namespace } }),
    await server.api('POST', `/v1/admin/namespaces/${namespace}/apps`, { ...admin, body: { name, settings } }),
  ];
  for (const response of created)
    if (response.status !== 201)
      throw new Error(`app creation failed: ${response.status} ${JSON.stringify(response.body)}`);
  const key = async (kind: 'publishable' | 'secret') => {
    const response = await server.api<{ key: string }>('POST', `/v1/admin/apps/${namespace}/${name}/keys`, {
      ...admin,
      body: { kind },
    });
    if (response.status !== 201)
      throw new Error(`key creation failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.key;
  };
  return {
    namespace,
    name,
    path: `/v1/apps/${namespace}/${name}`,
    publishableKey: await key('publishable'),
    secretKey: await key('secret'),
  };
}

/** The demo/chat app every test server starts with, as a TestApp. */
export function demoApp(server: TestServer): TestApp {
  return {
    namespace: 'demo',
    name: 'chat',
    path: '/v1/apps/demo/chat',
    publishableKey: server.publishableKey,
    secretKey: server.secretKey,
  };
}

/** Signs a new user up in `app` (needs public signup) and logs it in with the local strategy. */
export async function signUpAndLogInTo(
  server: TestServer,
  app: TestApp,
  fields: Record<string, unknown> = {},
): Promise<{ user: User; login: AuthenticationResult; email: string }> {
  const email = uniqueEmail();
  const signup = await server.api<User>('POST', `${app.path}/users`, {
    key: app.publishableKey,
    body: { email, password: PASSWORD, ...fields },
  });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${JSON.stringify(signup.body)}`);
  const login = await server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
    key: app.publishableKey,
    body: { strategy: 'local', email, password: PASSWORD },
  });
  if (login.status !== 201) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { user: signup.body, login: login.body, email };
}

/** Another login of an existing user: a new session. */
export async function logInTo(
  server: TestServer,
  app: TestApp,
  body: Record<string, unknown>,
): Promise<AuthenticationResult> {
  const login = await server.api<AuthenticationResult>('POST', `${app.path}/authentication`, {
    key: app.publishableKey,
    body,
  });
  if (login.status !== 201) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body;
}
