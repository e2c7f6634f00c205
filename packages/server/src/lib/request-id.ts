import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * A client's own id is kept only when short and plain: it is written into every log line of
 * the request and sent back in a header (of REST answers and of refused realtime upgrades,
 * which are written by hand), so a long value would bloat the logs and anything beyond these
 * characters could forge log fields or headers. Two headers (joined with ", ") are not plain.
 */
const PLAIN_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request's id: the client's X-Request-Id when short and plain, else a new UUID. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && PLAIN_REQUEST_ID.test(given) ? given : randomUUID();
}
