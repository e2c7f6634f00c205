import pino, { type Logger } from 'pino';

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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'tessera' } }, destination);
}
