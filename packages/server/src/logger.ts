import pino, { type Logger } from 'pino';
import { standardOutput } from './lib/non-blocking-output.js';

/** Fields that may hold a secret are censored wherever they appear in a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-tessera-key"]',
  '*.password',
  '*.oldPassword',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.reconnectToken',
  '*.secret',
];

/** Logs go to standard output unless told otherwise, through a writer that never blocks the server (see standardOutput). */
export function createLogger(level: string, destination: pino.DestinationStream = standardOutput()): Logger {
  return pino(
    { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'tessera' } },
    destination,
  );
}
