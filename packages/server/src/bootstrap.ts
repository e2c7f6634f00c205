import type { Services } from './services.js';

export interface FirstRun {
  app: string;
  publishableKey: string;
  secretKey: string;
  adminToken: string;
}

/**
 * On a fresh database, creates the app `demo/chat` with a publishable and a secret key, and an
 * admin token, so that a first `npm start` is usable at once. Returns the credentials, which
 * are printed once and never stored in the clear; undefined when the database was not fresh.
 */
export async function bootstrapFirstRun(services: Services): Promise<FirstRun | undefined> {
  if ((await services.apps.listNamespaces()).length > 0) return undefined;
  await services.apps.createNamespace('demo');
  const app = await services.apps.createApp('demo', 'chat');
  const publishable = await services.apps.createKey(app, 'publishable', 'created on first start');
  const secret = await services.apps.createKey(app, 'secret', 'created on first start');
  const adminToken = await services.apps.createAdminToken('created on first start');
  return { app: app.path, publishableKey: publishable.token, secretKey: secret.token, adminToken };
}
