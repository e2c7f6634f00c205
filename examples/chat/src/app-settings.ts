/**
 * The settings the chat needs on its Tessera app, set through the admin API: password signup,
 * guests and anonymous visitors; the role `member` for registered users and guests (anonymous
 * visitors get none, so they read but do not post); and the chat page's origins, whose browser
 * calls Tessera must answer.
 */
import { callTessera } from './tessera-api.js';

export function chatAppSettings(pageOrigins: readonly string[]) {
  return {
    publicSignup: true,
    allowedOrigins: [...pageOrigins],
    strategies: { local: { enabled: true }, guest: { enabled: true }, anonymous: { enabled: true } },
    accessTokenClaims: { roles: true },
    newUserRoles: { registered: ['member'], guest: ['member'] },
  };
}

/** The origins a browser sends for a page at `pageUrl`: as printed, and by `localhost` for 127.0.0.1. */
export function pageOriginsOf(pageUrl: string): string[] {
  const { origin, hostname, port } = new URL(pageUrl);
  return hostname === '127.0.0.1' ? [origin, `http://localhost:${port}`] : [origin];
}

/**
 * Sets the chat's settings on the app. The page's origins are added to those the app allows
 * already (other pages of the app keep working); an app open to every origin (`*`) stays so.
 */
export async function configureApp(tesseraUrl: string, app: string, adminToken: string, pageUrl: string) {
  const path = `/v1/admin/apps/${app}`;
  const current = await callTessera<{ settings: { allowedOrigins: string[] } }>(tesseraUrl, {
    method: 'GET',
    path,
    admin: adminToken,
  });
  const allowed = current.settings.allowedOrigins;
  const origins = allowed.includes('*') ? allowed : [...new Set([...allowed, ...pageOriginsOf(pageUrl)])];
  await callTessera(tesseraUrl, {
    method: 'PATCH',
    path,
    admin: adminToken,
    body: { settings: chatAppSettings(origins.length > MAX_ORIGINS ? pageOriginsOf(pageUrl) : origins) },
  });
}

/** The most origins an app allows (Tessera's bound on `allowedOrigins`). */
const MAX_ORIGINS = 100;
