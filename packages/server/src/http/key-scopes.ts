import { ErrorSchema, SCOPE_NAMES, isScope, scopesAllow, type Scope } from '@tessera/protocol';
import type { FastifySchema, onRouteHookHandler } from 'fastify';
import { TesseraError } from '../errors.js';
import type { ApiKeyRecord } from '../store/repositories/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The scope a secret key needs for this route, declared where the route is registered and
     * checked by its credential scope's hook (http/scopes.ts). `null`, in the publishable scope
     * only: a secret key gets nothing there that a publishable key lacks.
     */
    keyScope?: Scope | null;
  }
}

type KeyRoutes = 'publishable' | 'secret';

/** Refuses a secret key without the route's scope; publishable keys have no scopes to check. */
export function assertKeyScope(key: ApiKeyRecord, needed: Scope | null | undefined): void {
  if (key.kind !== 'secret' || needed === undefined || needed === null) return;
  if (scopesAllow(key.scopes, needed)) return;
  throw new TesseraError('insufficient_scope', {
    message: `This call needs the scope ${needed}, which this secret key lacks.`,
    details: { required: needed },
  });
}

/**
 * An onRoute hook: a key route that declares no scope throws while the server starts, so no
 * route can take the secret key without saying what it lets the key do. The declared scope is
 * written into the route's OpenAPI entry.
 */
export function declaredKeyScope(routes: KeyRoutes): onRouteHookHandler {
  return (route) => {
    const declared = route.config?.keyScope;
    if (isScope(declared)) {
      route.schema = documented(route.schema ?? {}, declared, routes);
      return;
    }
    if (routes === 'publishable' && declared === null) return;
    const choices = `one of ${SCOPE_NAMES.join(', ')}${routes === 'publishable' ? ', or null' : ''}`;
    throw new Error(
      `${String(route.method)} ${route.url} takes the ${routes === 'secret' ? 'secret' : 'publishable or secret'} key but declares no scope: give it config.keyScope (${choices}).`,
    );
  };
}

function documented(schema: FastifySchema, scope: Scope, routes: KeyRoutes): FastifySchema {
  const needs =
    routes === 'secret'
      ? `Needs a secret key with the scope \`${scope}\` (or a full-access one).`
      : `With the secret key, needs the scope \`${scope}\` (or a full-access key).`;
  const lacking = `\`insufficient_scope\`: a secret key without the scope \`${scope}\``;
  const refusal = routes === 'secret' ? `\`forbidden\`: a publishable key. ${lacking}.` : `${lacking}, among others.`;
  return {
    ...schema,
    ...(routes === 'secret' ? { security: [{ apiKey: [scope] }] } : {}),
    description: schema.description === undefined ? needs : `${schema.description}\n\n${needs}`,
    response: { ...(schema.response as object | undefined), 403: { ...ErrorSchema, description: refusal } },
  };
}
