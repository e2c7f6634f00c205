import { CLOSE_CODE_RANGES, ERROR_CODES } from '@tessera/protocol';
import { describeConfiguration } from '../src/config/index.js';
import { TesseraError } from '../src/errors.js';
import { errorAnswer, FEATHERS_CLASSES, feathersClassOf } from '../src/http/errors.js';

/** One row per HTTP status the registry uses: Feathers' class for it, and whether it is the nearest. */
function feathersRows(): string[] {
  const statuses = [...new Set(Object.values(ERROR_CODES).map((definition) => definition.status))].sort(
    (a, b) => a - b,
  );
  return statuses.map((status) => {
    const { name, className } = feathersClassOf(status);
    const note = Object.hasOwn(FEATHERS_CLASSES, status) ? '' : ` (Feathers has no ${status}: the nearest)`;
    return `| ${status} | \`${name}\`${note} | \`${className}\` |`;
  });
}

/** A REST error answer, one field a line. */
function feathersExample(): string {
  const answer = errorAnswer(new TesseraError('session_revoked', { details: { reason: 'logout' } }));
  const lines = Object.entries(answer).map(([field, value]) => `  ${JSON.stringify(field)}: ${JSON.stringify(value)}`);
  return `{\n${lines.join(',\n')}\n}`;
}

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, definition]) =>
      `| \`${code}\` | ${definition.status} | ${definition.closeCode} | ${definition.retryable ? 'yes' : 'no'} | ${definition.message} |`,
  );
  return `# Error codes

<!-- Generated from packages/protocol/src/errors.ts and packages/server/src/http/errors.ts by \`npm run docs\`; a test keeps it in step. -->

Every error, over REST and over the realtime socket, has one shape:

\`\`\`json
{ "error": { "code": "session_expired", "message": "The session has expired; log in again.", "status": 401 } }
\`\`\`

\`code\` is stable: it is never renamed, and a retired code is never reused. \`details\`, when present,
says more (for \`invalid_request\`, a list of \`{ path, message }\`; for \`weak_password\`, the \`reason\`;
for \`insufficient_scope\`, the scope the key lacks, \`{ required }\`).
Answers with \`retryable\` = yes may carry a \`Retry-After\` header.

## Feathers' fields

A REST error answer also carries, after the envelope, the same error as \`@feathersjs/errors\`
serializes one, so that Feathers' REST client rebuilds its own error class (a \`NotAuthenticated\`,
a \`NotFound\`…) and a Feathers app's error handling works unchanged:

\`\`\`json
${feathersExample()}
\`\`\`

- \`name\` and \`className\`: Feathers' error class for the HTTP status (table below).
- \`message\`: the envelope's \`message\`.
- \`code\`: the HTTP status, a number, as Feathers means it. Tessera's string code is \`error.code\`.
- \`data\`: \`{ code, details? }\`, Tessera's code and the envelope's \`details\` when it has them;
  nothing the envelope does not say. A Feathers app branches on it:
  \`error instanceof NotAuthenticated && error.data.code === 'token_expired'\`.

A refused WebSocket upgrade answers the envelope alone, and the realtime socket's \`error\` frames
keep their own shape ([realtime.md](realtime.md)): no Feathers client reads them.
[Moving from Feathers](migrate/feathers.md) shows a whole Feathers client setup.

| HTTP status | Feathers \`name\` | \`className\` |
| --- | --- | --- |
${feathersRows().join('\n')}

## Codes

Realtime close codes ${CLOSE_CODE_RANGES.reconnectAllowed.from}–${CLOSE_CODE_RANGES.reconnectAllowed.to} mean "reconnect allowed";
${CLOSE_CODE_RANGES.doNotReconnect.from}–${CLOSE_CODE_RANGES.doNotReconnect.to} mean "do not reconnect without new credentials".

| code | HTTP status | close code | retryable | meaning |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}

export function renderConfigurationDoc(): string {
  return `# Configuration

<!-- Generated from packages/server/src/config/schema.ts by \`npm run docs\`; a test keeps it in step. -->

Tessera reads its configuration from the environment; the \`tessera\` command's flags
(\`--port\`, \`--host\`, \`--data-dir\`, \`--database-url\`, \`--log-level\`) override it. An invalid
value stops the server with one line that names the setting, e.g.
\`error invalid_config: port (from TESSERA_PORT): must be integer\` (exit status 1).

${describeConfiguration()}
`;
}
