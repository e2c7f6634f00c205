import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IntrospectionRequestSchema, IntrospectionSchema } from '@tessera/protocol';
import { INACTIVE, presentIntrospection } from '../../presenters/introspection.js';
import type { Services } from '../../services.js';
import { appOf } from '../request-state.js';
import { errorResponses } from '../schemas.js';

const FORM = 'application/x-www-form-urlencoded';

/** A form body as an object; a repeated name becomes a list, which the body schema refuses (RFC 6749 §3.1). */
function parseForm(text: string): Record<string, string | string[]> {
  const fields = new Map<string, string | string[]>();
  for (const [name, value] of new URLSearchParams(text)) {
    const seen = fields.get(name);
    fields.set(name, seen === undefined ? value : [seen, value].flat());
  }
  // fromEntries defines own properties: a field named __proto__ stays a field.
  return Object.fromEntries(fields);
}

/**
 * Token introspection (RFC 7662) for a server of the app's own that wants an online check.
 * Failed checks do not count against the caller's address: the caller proved it holds a secret
 * key, and the tokens it asks about are its users', not guesses of its own.
 */
export function introspectionRoutes(services: Pick<Services, 'sessions'>): FastifyPluginAsyncTypebox {
  return async (fastify) => {
    // RFC 7662 §2.1 sends a form; this parser serves only the routes of this plugin, within the body limit.
    fastify.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => {
      done(null, parseForm(body as string));
    });

    fastify.post('/introspect', {
      config: { keyScope: 'sessions:read' },
      schema: {
        tags: ['sessions'],
        summary: 'Whether an access token is usable now, and whose it is (RFC 7662, secret key)',
        description:
          'Takes `token` (and an ignored `token_type_hint`) form-encoded or as JSON. A token that is not usable, whatever the reason, answers `{ "active": false }`. The session is not touched: asking is not activity of the user.',
        body: IntrospectionRequestSchema,
        response: { 200: IntrospectionSchema, ...errorResponses(400, 401, 403, 404) },
      },
      handler: async (request) => {
        const context = await services.sessions.introspect(appOf(request), request.body.token);
        return context === undefined ? INACTIVE : presentIntrospection(context);
      },
    });
  };
}
