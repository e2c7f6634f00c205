import type { AuthenticationResult, User } from '@tessera/protocol';
import type { TestServer } from './server.js';

export const PASSWORD = 'correct horse battery staple';

let counter = 0;

/** A unique email for this test process. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}@example.com`;
}

export async function signUp(server: TestServer, fields: Record<string, unknown> = {}): Promise<User> {
  const response = await server.api<User>('POST', '/v1/apps/demo/chat/users', {
    key: server.publishableKey,
    body: { email: uniqueEmail(), password: PASSWORD, ...fields },
  });
  if (response.status !== 201) throw new Error(`signup failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function logIn(server: TestServer, credentials: Record<string, unknown>): Promise<AuthenticationResult> {
  const response = await server.api<AuthenticationResult>('POST', '/v1/apps/demo/chat/authentication', {
    key: server.publishableKey,
    body: { strategy: 'local', ...credentials },
  });
  if (response.status !== 201) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Signs a new user up and logs it in. */
export async function signUpAndLogIn(
  server: TestServer,
  fields: Record<string, unknown> = {},
): Promise<{ user: User; login: AuthenticationResult; email: string }> {
  const email = uniqueEmail();
  const user = await signUp(server, { email, ...fields });
  const login = await logIn(server, { email, password: fields.password ?? PASSWORD });
  return { user, login, email };
}
