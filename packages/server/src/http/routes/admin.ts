import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { KeyScopesSchema, SCOPE_NAMES } from '@tessera/protocol';
import Type from 'typebox';
import { AppSettingsPatchSchema, AppSettingsSchema } from '../../apps/settings.js';
import { toIso } from '../../lib/clock.js';
import { presentApp, presentKey } from '../../presenters/apps.js';
import type { Services } from '../../services.js';
import { callbackOnce } from '../../lib/maybe-promise.js';
import { requireAdmin } from '../credentials.js';
import { setAdmin } from '../request-state.js';
import { AppParams, errorResponses, nullable, oneOfStrings } from '../schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 63, description: 'Lowercase letters, digits and dashes.' });
const AppSchema = Type.Object({
  id: Type.String(),
  namespace: Type.String(),
  name: Type.String(),
  path: Type.String(),
  createdAt: Type.String(),
  sessionsRevokedBefore: nullable(
    Type.String({
      format: 'date-time',
      description: "The kill switch's cut-off: sessions started before it are over for good.",
    }),
  ),
  settings: AppSettingsSchema,
});
const KeySchema = Type.Object({
  id: Type.String(),
  kind: oneOfStrings(['publishable', 'secret']),
  label: nullable(Type.String()),
  createdAt: Type.String(),
  revokedAt: nullable(Type.String()),
  scopes: KeyScopesSchema,
});

/** The operator's API: namespaces, apps, their settings, API keys and signing keys. Needs an admin token. */
export function adminRoutes(
  services: Pick<Services, 'apps' | 'killSwitch' | 'limits' | 'signingKeys'>,
): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    const tags = ['admin'];
    // onRequest: an admin call without a valid token is refused before its body is read.
    fastify.addHook('onRequest', (request, _reply, done) =>
      callbackOnce(
        () => requireAdmin(services, request),
        (admin) => setAdmin(request, admin),
        done,
      ),
    );

    fastify.post('/namespaces', {
      schema: {
        tags,
        summary: 'Create a namespace',
        body: Type.Object({ name: Name }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.String(), name: Type.String() }), ...errorResponses(400, 401, 409) },
      },
      handler: async (request, reply) => {
        const namespace = await services.apps.createNamespace(request.body.name);
        return reply.status(201).send({ id: namespace.id, name: namespace.name });
      },
    });

    fastify.get('/namespaces', {
      schema: {
        tags,
        summary: 'List namespaces',
        response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })) }) },
      },
      handler: async () => ({ items: (await services.apps.listNamespaces()).map(({ id, name }) => ({ id, name })) }),
    });

    fastify.post('/namespaces/:namespace/apps', {
      schema: {
        tags,
        summary: 'Create an app with its first signing key',
        params: Type.Object({ namespace: Type.String({ maxLength: 63 }) }),
        body: Type.Object(
          { name: Name, settings: Type.Optional(AppSettingsPatchSchema) },
          { additionalProperties: false },
        ),
        response: { 201: AppSchema, ...errorResponses(400, 401, 404, 409) },
      },
      handler: async (request, reply) => {
        const app = await services.apps.createApp(
          request.params.namespace,
          request.body.name,
          request.body.settings ?? {},
        );
        return reply.status(201).send(presentApp(app));
      },
    });

    fastify.get('/apps', {
      schema: {
        tags,
        summary: 'List apps',
        querystring: Type.Object(
          { namespace: Type.Optional(Type.String({ maxLength: 63 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(AppSchema) }) },
      },
      handler: async (request) => ({ items: (await services.apps.listApps(request.query.namespace)).map(presentApp) }),
    });

    fastify.get('/apps/:namespace/:app', {
      schema: {
        tags,
        summary: 'Get an app and its settings',
        params: AppParams,
        response: { 200: AppSchema, ...errorResponses(401, 404) },
      },
      handler: async (request) => presentApp(await services.apps.getApp(request.params.namespace, request.params.app)),
    });

    fastify.patch('/apps/:namespace/:app', {
      schema: {
        tags,
        summary: "Change an app's settings",
        params: AppParams,
        body: Type.Object({ settings: AppSettingsPatchSchema }, { additionalProperties: false }),
        response: { 200: AppSchema, ...errorResponses(400, 401, 404) },
      },
      handler: async (request) => {
        const app = await services.apps.getApp(request.params.namespace, request.params.app);
        return presentApp(await services.apps.updateSettings(app, request.body.settings));
      },
    });

    fastify.post('/apps/:namespace/:app/sessions/revoke-before', {
      schema: {
        tags,
        summary: 'Kill switch: end every session of the app started before a moment (default now)',
        description:
          'After a breach. Every live session created before `before` ends (session_revoked, reason revoked_before) and its realtime sockets close on every node; the moment is kept on the app, so such a session is refused for good, even one whose login was being written meanwhile. A later call may move the moment forward, never back; a moment in the future is refused. Users log in again as usual.',
        params: AppParams,
        body: Type.Object(
          { before: Type.Optional(Type.String({ format: 'date-time', description: "Defaults to the server's now." })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            before: Type.String({
              format: 'date-time',
              description: 'The cut-off in force (a later one set before stays).',
            }),
            revoked: Type.Integer({ minimum: 0, description: 'Live sessions this call ended.' }),
          }),
          ...errorResponses(400, 401, 404),
        },
      },
      // No body at all is a plain "now", as `{}` is.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      handler: async (request) => {
        const app = await services.apps.getApp(request.params.namespace, request.params.app);
        const before = request.body.before === undefined ? undefined : Date.parse(request.body.before);
        const result = await services.killSwitch.revokeBefore(app, before);
        return { before: toIso(result.before), revoked: result.revoked };
      },
    });

    fastify.post('/apps/:namespace/:app/keys', {
      schema: {
        tags,
        summary: 'Create an API key; the key is shown in this answer only',
        description:
          'A secret key made with `scopes` may make only the calls they allow (others answer 403 `insufficient_scope`); without them it has full access.',
        params: AppParams,
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('publishable'), Type.Literal('secret')]),
            label: Type.Optional(Type.String({ maxLength: 128 })),
            scopes: Type.Optional(
              Type.Array(Type.String({ maxLength: 64 }), {
                maxItems: 32,
                description: `A secret key's scopes (${SCOPE_NAMES.join(', ')}). Left out: full access.`,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ key: Type.String(), ...KeySchema.properties }),
          ...errorResponses(400, 401, 404),
        },
      },
      handler: async (request, reply) => {
        const app = await services.apps.getApp(request.params.namespace, request.params.app);
        const { kind, label = null, scopes = null } = request.body;
        const { key, token } = await services.apps.createKey(app, kind, label, scopes);
        return reply.status(201).send({ key: token, ...presentKey(key) });
      },
    });

    fastify.get('/apps/:namespace/:app/keys', {
      schema: {
        tags,
        summary: 'List API keys (never the keys themselves)',
        params: AppParams,
        response: { 200: Type.Object({ items: Type.Array(KeySchema) }), ...errorResponses(401, 404) },
      },
      handler: async (request) => {
        const app = await services.apps.getApp(request.params.namespace, request.params.app);
        return { items: (await services.apps.listKeys(app)).map(presentKey) };
      },
    });

    fastify.delete('/apps/:namespace/:app/keys/:keyId', {
      schema: {
        tags,
        summary: 'Revoke an API key',
        params: Type.Object({ ...AppParams.properties, keyId: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
      handler: async (request, reply) => {
        const app = await services.apps.getApp(request.params.namespace, request.params.app);
        await services.apps.revokeKey(app, request.params.keyId);
        return reply.status(204).send(null);
      },
    });

    fastify.post('/apps/:namespace/:app/signing-keys/rotate', {
      schema: {
        tags,
        summary: 'Make a new current signing key; the old one verifies until its tokens expire',
        params: AppParams,
        response: { 201: Type.Object({ kid: Type.String() }), ...errorResponses(401, 404) },
      },
      handler: async (request, reply) => {
        const app = await services.apps.getApp(request.params.namespace, request.params.app);
        return reply.status(201).send({ kid: await services.signingKeys.rotate(app) });
      },
    });
  };
}
