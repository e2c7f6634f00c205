import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EVENTS_PATH, EVENT_STREAM_KEEP_ALIVE_MS } from '@tessera/protocol';
import Type from 'typebox';
import { TesseraError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { AppRecord } from '../../store/repositories/index.js';
import { presentedKey } from '../credentials.js';
import { appOf } from '../request-state.js';
import { errorResponses } from '../schemas.js';

/** A sequence as the stream's resume point is written: a non-negative integer, no sign, no exponent. */
const SEQUENCE = /^(0|[1-9][0-9]{0,14})$/;

/** The resume point: `Last-Event-ID` (what EventSource sends by itself) first, then `?after=`. */
function requestedAfter(header: string | string[] | undefined, query: string | undefined): number | undefined {
  if (Array.isArray(header)) throw badResumePoint('/headers/last-event-id', 'given more than once');
  const given = header === undefined || header === '' ? query : header;
  if (given === undefined) return undefined;
  if (!SEQUENCE.test(given))
    throw badResumePoint(
      header === undefined || header === '' ? '/querystring/after' : '/headers/last-event-id',
      'not a sequence',
    );
  return Number(given);
}

function badResumePoint(path: string, message: string): TesseraError {
  return new TesseraError('invalid_request', {
    message:
      'The resume point (Last-Event-ID or after) must be a non-negative integer: the sequence of the last event seen.',
    details: [{ path, message }],
  });
}

/** Whether the stream's key still opens it; only a refusal of the key says no (a store outage does not). */
async function keyStillValid(
  services: Pick<Services, 'apps'>,
  app: AppRecord,
  key: string | undefined,
): Promise<boolean> {
  if (key === undefined) return false;
  try {
    await services.apps.authenticateKey(app, key);
    return true;
  } catch (error) {
    return !(error instanceof TesseraError && (error.status === 401 || error.status === 403));
  }
}

/**
 * The app's event stream (Server-Sent Events) for its backends: see @tessera/protocol's
 * events.ts for the contract and docs/events.md for its use.
 */
export function eventRoutes(services: Pick<Services, 'apps' | 'eventStreams'>): FastifyPluginAsyncTypebox {
  const streams = services.eventStreams;
  return async (fastify) => {
    fastify.get(EVENTS_PATH, {
      config: { keyScope: 'sessions:read' },
      schema: {
        tags: ['events'],
        summary: "The app's event stream: ended sessions, changed users, rotated keys (Server-Sent Events, secret key)",
        description: `A \`text/event-stream\`. The first message is \`ready\` (\`{ after, gap, retentionSeconds }\`), then every event after the resume point (\`Last-Event-ID\` header, or \`after\`; with neither, only events from now on), then events as they happen, each as \`id: <sequence>\`, \`event: <type>\`, \`data: <JSON>\`. A \`: keep-alive\` comment comes every ${EVENT_STREAM_KEEP_ALIVE_MS / 1000} seconds while nothing else is sent. See docs/events.md.`,
        querystring: Type.Object({
          after: Type.Optional(
            Type.String({ description: 'Resume after this sequence (when no Last-Event-ID header is sent).' }),
          ),
        }),
        response: {
          200: {
            description: 'The stream (text/event-stream; charset=utf-8), open until either side ends it.',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
      handler: async (request, reply) => {
        const app = appOf(request);
        const after = requestedAfter(request.headers['last-event-id'], request.query.after);
        streams.assertRoom(app);
        const ready = await streams.ready(app, after);
        // Checked again: the read above gave other requests the time to open streams.
        streams.assertRoom(app);
        reply.hijack();
        // What the hooks set (request id, CORS) goes out with the head Fastify no longer writes.
        for (const [name, value] of Object.entries(reply.getHeaders()))
          if (value !== undefined) reply.raw.setHeader(name, value);
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          // nginx and others would otherwise hold the events back to fill a buffer.
          'x-accel-buffering': 'no',
          // A stream is its connection's last response: once it ends, the connection closes.
          connection: 'close',
        });
        const key = presentedKey(request);
        streams.serve(app, ready, reply.raw, () => keyStillValid(services, app, key));
      },
    });
  };
}
