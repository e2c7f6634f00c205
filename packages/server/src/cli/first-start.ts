import { bootstrapFirstRun, type FirstRun } from '../bootstrap.js';
import type { Tessera } from '../tessera.js';

/**
 * What `tessera start` does on an empty database, once the server listens (a start that fails
 * earlier, say on a port in use, creates nothing, so no "shown once" credentials are lost).
 * Development creates demo/chat and prints its keys and an admin token, once. Production creates
 * nothing and prints no secret: the operator makes apps and admin tokens with the CLI
 * (docs/deploy.md), so that no key ever lands in a log collector.
 */
export async function onFirstStart(tessera: Tessera, url: string, stdout: (text: string) => void): Promise<void> {
  if (tessera.config.mode === 'production') {
    if ((await tessera.services.apps.listNamespaces()).length === 0) {
      tessera.logger.warn(
        'no app yet: production mode creates none. Create one with `tessera app create <namespace/app>` (prints its keys once) and an admin token with `tessera admin-token create` (docs/deploy.md)',
      );
    }
    return;
  }
  const firstRun = await bootstrapFirstRun(tessera.services);
  if (firstRun !== undefined) stdout(describeFirstRun(firstRun, url));
}

function describeFirstRun(firstRun: FirstRun, url: string): string {
  const base = `${url}/v1/apps/${firstRun.app}`;
  return [
    '',
    `First start: created the app ${firstRun.app}. These credentials are shown once; only their hashes are stored.`,
    `  publishable key (clients):        ${firstRun.publishableKey}`,
    `  secret key (your backend only):   ${firstRun.secretKey}`,
    `  admin token (admin API):          ${firstRun.adminToken}`,
    `  app base URL:                     ${base}`,
    `  API documentation:                ${url}/docs`,
    'Lost one? Make another (the old ones keep working until revoked):',
    `  npm run tessera -- key create ${firstRun.app} --kind publishable   (or --kind secret)`,
    '  npm run tessera -- admin-token create',
    '',
    '',
  ].join('\n');
}
