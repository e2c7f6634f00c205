import { CLOSE_CODE_RANGES, ERROR_CODES } from '@tessera/protocol';
import { describeConfiguration } from '../src/config/index.js';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, definition]) =>
      `| \`${code}\` | ${definition.status} | ${definition.closeCode} | ${definition.retryable ? 'yes' : 'no'} | ${definition.message} |`,
  );
  return `# Error codes

<!-- Generated from packages/protocol/src/errors.ts by \`npm run docs\`; a test keeps it in step. -->

Every error, over REST and over the realtime socket, has one shape:

\`\`\`json
{ "error": { "code": "session_expired", "message": "The session has expired; log in again.", "status": 401 } }
\`\`\`

\`code\` is stable: it is never renamed, and a retired code is never reused. \`details\`, when present,
says more (for \`invalid_request\`, a list of \`{ path, message }\`; for \`weak_password\`, the \`reason\`).
Answers with \`retryable\` = yes may carry a \`Retry-After\` header.

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
