import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../auth/sessions/session-service.js';
import type { AdminTokenRecord, ApiKeyRecord, AppRecord } from '../store/repositories/index.js';

/**
 * What the scope hooks learned about the caller: the app of the route's path, the API key,
 * the signed-in user, the admin token. Deliberately not declared on `FastifyRequest`: routes
 * read them through the accessors below, which know which scope sets each one.
 */
interface CallerState {
  tesseraApp: AppRecord | null;
  tesseraKey: ApiKeyRecord | null;
  tesseraUser: AuthContext | null;
  tesseraAdmin: AdminTokenRecord | null;
}

const stateOf = (request: FastifyRequest) => request as FastifyRequest & CallerState;

/**
 * Declares the caller's fields on every request, each `null` until a scope's hook sets it: a
 * primitive, as Fastify asks of request decorations, so no object is shared or allocated per request.
 */
export function decorateCallerState(fastify: FastifyInstance): void {
  const fields: (keyof CallerState)[] = ['tesseraApp', 'tesseraKey', 'tesseraUser', 'tesseraAdmin'];
  for (const field of fields) fastify.decorateRequest(field, null);
}

/** A route read what its scope's hook never set: it is registered in the wrong scope. */
function misplacedRoute(request: FastifyRequest, what: string, scope: string): never {
  throw new Error(`${request.method} ${request.routeOptions.url ?? request.url} reads ${what}, set only in ${scope}.`);
}

/** The app of `/v1/apps/:namespace/:app/…`. */
export const appOf = (request: FastifyRequest): AppRecord =>
  stateOf(request).tesseraApp ?? misplacedRoute(request, 'the app', 'the app scope');

/** The app's API key the caller presented (publishable or secret). */
export const keyOf = (request: FastifyRequest): ApiKeyRecord =>
  stateOf(request).tesseraKey ?? misplacedRoute(request, 'an API key', 'the publishable and secret scopes');

/** The signed-in user, its session and app, behind the access token. */
export const userOf = (request: FastifyRequest): AuthContext =>
  stateOf(request).tesseraUser ?? misplacedRoute(request, 'a user', 'the user scope');

/** The admin token of a call to `/v1/admin`. */
export const adminOf = (request: FastifyRequest): AdminTokenRecord =>
  stateOf(request).tesseraAdmin ?? misplacedRoute(request, 'an admin token', 'the admin routes');

export function setApp(request: FastifyRequest, app: AppRecord): void {
  stateOf(request).tesseraApp = app;
}

export function setKey(request: FastifyRequest, key: ApiKeyRecord): void {
  stateOf(request).tesseraKey = key;
}

export function setUser(request: FastifyRequest, user: AuthContext): void {
  stateOf(request).tesseraUser = user;
}

export function setAdmin(request: FastifyRequest, admin: AdminTokenRecord): void {
  stateOf(request).tesseraAdmin = admin;
}
