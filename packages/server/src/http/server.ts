import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ProxyTrust } from '../config/proxy-trust.js';
import { TesseraError } from '../errors.js';
import type { LiveConnections, Services } from '../services.js';
import { callbackOnce } from '../lib/maybe-promise.js';
import type { AppRecord } from '../store/repositories/index.js';
import { allowCrossOrigin, preflightRoutes } from './cors.js';
import { KEY_HEADER } from './credentials.js';
import { sendError } from './errors.js';
import { validatorCompiler } from './validation.js';
import { ServingState } from './serving-state.js';
import { LazyRequestLogger } from './request-logger.js';
import { REQUEST_ID_HEADER, requestIdOf } from '../lib/request-id.js';
import { decorateCallerState, setApp } from './request-state.js';
import { publishableScope, secretScope, userScope } from './scopes.js';
import { adminRoutes } from './routes/admin.js';
import { authTokenRoutes } from './routes/auth-tokens.js';
import { loginRoutes, logoutRoutes } from './routes/authentication.js';
import { healthRoutes } from './routes/health.js';
import { introspectionRoutes } from './routes/introspection.js';
import { eventRoutes } from './routes/events.js';
import { jwksRoutes } from './routes/jwks.js';
import { meRoutes } from './routes/me.js';
import { userSessionRoutes } from './routes/user-sessions.js';
import { signupRoutes, userRoutes } from './routes/users.js';
import { userAddressScope } from './user-address.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

export interface HttpOptions {
  logger: Logger;
  /** Whose X-Forwarded-For to believe (see config/proxy-trust.ts). */
  trustProxy: ProxyTrust;
  version: string;
  /** Shutdown's progress, which /readyz and the answers of a closing server follow. */
  state?: ServingState;
  /** Counts shown with each session in the session lists. */
  liveConnections: LiveConnections;
}

/** The Fastify application: REST API, OpenAPI document at /docs, health endpoints. */
export async function buildHttpServer(services: Services, options: HttpOptions): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = options.logger;
  const state = options.state ?? new ServingState();
  const fastify = Fastify({
    loggerInstance,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: options.trustProxy,
    // The id is chosen by requestIdOf, which refuses long or unusual client ids.
    requestIdHeader: false,
    genReqId: (request) => requestIdOf(request.headers),
    // One line per request is written by the onResponse hook below, with the route and timing.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger, bindings, childOptions) =>
      new LazyRequestLogger(logger as Logger, bindings, childOptions),
    // A request arriving on a kept-alive connection while the server closes is refused by the
    // onRequest hook below, with the registry's server_shutdown body rather than Fastify's own.
    return503OnClosing: false,
    // The router's own refusals (a malformed or overlong URL) answer like every other error.
    frameworkErrors: (error, request, reply) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      sendError(error, request, reply);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  fastify.setValidatorCompiler(validatorCompiler);
  fastify.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  fastify.setNotFoundHandler((request, reply) => sendError(new TesseraError('route_not_found'), request, reply));
  decorateCallerState(fastify);
  // Hooks that do not wait on anything take Fastify's callback form: an async hook costs a
  // promise and a microtask turn on every request.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done(state.phase === 'closing' ? new TesseraError('server_shutdown', { retryAfterSeconds: 1 }) : undefined);
  });
  // The level is fixed at start: below info there is no request line, and nothing to gather for it.
  if (options.logger.isLevelEnabled('info')) {
    fastify.addHook('onResponse', (request, reply, done) => {
      // Through the root logger: a per-request child for this one line would cost more than the line.
      options.logger.info(
        {
          reqId: request.id,
          method: request.method,
          url: request.routeOptions.url ?? request.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      );
      done();
    });
  }

  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: options.version,
        description: 'Authentication, users and sessions for real-time apps.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: KEY_HEADER, description: 'pk_… or sk_… of the app' },
          accessToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'adm_… admin token' },
        },
      },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });

  await fastify.register(healthRoutes(services, state));
  await fastify.register(adminRoutes(services), { prefix: '/v1/admin' });
  await fastify.register(
    async (scope) => {
      // Resolve the app before anything else, so an unknown app answers 404 whatever the body;
      // its allowedOrigins then decide the CORS headers.
      scope.addHook('onRequest', (request, reply, done) => {
        const { namespace, app } = request.params as { namespace: string; app: string };
        const use = (found: AppRecord) => {
          setApp(request, found);
          allowCrossOrigin(request, reply, found);
        };
        callbackOnce(() => services.apps.getApp(namespace, app), use, done);
      });
      scope.addHook('onSend', (_request, reply, payload, done) => {
        // Answers carry tokens and personal data: never cache them (RFC 6749 §5.1).
        if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
        done(null, payload);
      });
      // In this order, the OpenAPI document lists the paths as it always has.
      await scope.register(publishableScope(services, [loginRoutes(services), signupRoutes(services)]));
      await scope.register(
        secretScope(services, [
          userAddressScope(services, [
            userRoutes(services),
            userSessionRoutes(services, options.liveConnections),
            authTokenRoutes(services),
          ]),
          introspectionRoutes(services),
          eventRoutes(services),
        ]),
      );
      await scope.register(userScope(services, [logoutRoutes(services), meRoutes(services, options.liveConnections)]));
      await scope.register(jwksRoutes(services));
      await scope.register(preflightRoutes());
    },
    { prefix: '/v1/apps/:namespace/:app' },
  );
  return fastify;
}
