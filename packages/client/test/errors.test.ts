import { ERROR_CODES, closeCodeAllowsReconnect, type ErrorCode } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import { backoffDelay, describeClose } from '../src/realtime-close.js';
import {
  AuthenticationError,
  codeOfCloseCode,
  ConflictError,
  endsSession,
  errorOfCode,
  InvalidRequestError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TesseraError,
} from '../src/index.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

function expectedClass(status: number): typeof TesseraError {
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionError;
  if (status === 404 || status === 405) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 429) return RateLimitError;
  if (status >= 500) return ServerError;
  return InvalidRequestError;
}

describe('typed errors', () => {
  it.each(codes)('%s becomes the class of its status, with the registry status and retry rule', (code) => {
    const definition = ERROR_CODES[code];
    const error = errorOfCode(code);
    expect(error).toBeInstanceOf(expectedClass(definition.status));
    expect(error).toBeInstanceOf(TesseraError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      code,
      status: definition.status,
      retryable: definition.retryable,
      message: definition.message,
    });
    expect(codeOfCloseCode(definition.closeCode)).toBe(code);
  });

  it('keeps the server message, details and Retry-After', () => {
    const error = errorOfCode('rate_limited', {
      status: 429,
      message: 'slow down',
      details: { limit: 5 },
      retryAfter: 7,
    });
    expect(error).toMatchObject({
      code: 'rate_limited',
      message: 'slow down',
      details: { limit: 5 },
      retryAfter: 7,
      name: 'RateLimitError',
    });
  });

  it('turns a code this SDK does not know into unknown_error, keeping the server code', () => {
    const error = errorOfCode('brand_new_code', { status: 409, message: 'new' });
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'unknown_error', status: 409, details: { serverCode: 'brand_new_code' } });
  });

  it('has client codes for failures without an answer', () => {
    expect(new NetworkError('network_error', { retryable: true })).toMatchObject({
      code: 'network_error',
      status: 0,
      retryable: true,
      name: 'NetworkError',
    });
  });

  it('says which errors end a session for good', () => {
    for (const code of [
      'session_expired',
      'session_revoked',
      'user_disabled',
      'reconnect_token_reused',
      'user_ended',
    ] as const)
      expect(endsSession(errorOfCode(code))).toBe(true);
    for (const code of ['token_expired', 'invalid_credentials', 'rate_limited', 'forbidden'] as const)
      expect(endsSession(errorOfCode(code))).toBe(false);
    expect(endsSession(new Error('session_expired'))).toBe(false);
  });
});

describe('realtime close codes', () => {
  it.each(codes)('%s: reconnect exactly when the protocol allows it', (code) => {
    const { closeCode } = ERROR_CODES[code];
    const close = describeClose(closeCode, code);
    expect(close.code).toBe(code);
    expect(close.reconnect).toBe(closeCodeAllowsReconnect(closeCode));
  });

  it('names the reasons an app acts on', () => {
    const reason = (code: ErrorCode, detail?: string) =>
      describeClose(ERROR_CODES[code].closeCode, detail === undefined ? code : `${code}:${detail}`);
    expect(reason('session_expired')).toMatchObject({ reason: 'expired', reconnect: false });
    expect(reason('session_revoked', 'password_changed')).toMatchObject({
      reason: 'revoked',
      detail: 'password_changed',
      reconnect: false,
    });
    expect(reason('session_revoked', 'logout')).toMatchObject({ reason: 'logged_out', detail: 'logout' });
    expect(reason('reconnect_token_reused')).toMatchObject({ reason: 'revoked' });
    expect(reason('user_disabled')).toMatchObject({ reason: 'disabled', reconnect: false });
    expect(reason('user_ended')).toMatchObject({ reason: 'user_ended', reconnect: false });
    expect(reason('server_shutdown')).toMatchObject({ reason: 'server_restart', reconnect: true });
    expect(reason('token_expired')).toMatchObject({ reason: 'token_expired', reconnect: true });
    expect(reason('rate_limited')).toMatchObject({ reason: 'rate_limited', reconnect: true });
    expect(reason('authentication_timeout')).toMatchObject({ reason: 'timeout', reconnect: true });
    expect(reason('slow_consumer')).toMatchObject({ reason: 'slow_consumer', reconnect: true });
    expect(reason('internal_error')).toMatchObject({ reason: 'server_error', reconnect: true });
    expect(reason('too_many_connections')).toMatchObject({ reason: 'rejected', reconnect: false });
    expect(reason('identity_mismatch')).toMatchObject({ reason: 'rejected', reconnect: false });
  });

  it('reconnects after network closes, and refuses unknown codes of the do-not-reconnect range', () => {
    expect(describeClose(1006, '')).toEqual({ reconnect: true, reason: 'network' });
    expect(describeClose(1001, 'going away')).toEqual({ reconnect: true, reason: 'network' });
    expect(describeClose(4099, '')).toMatchObject({ reconnect: true });
    expect(describeClose(4199, '')).toMatchObject({ reconnect: false, reason: 'rejected' });
    // A detail is taken only after the code it belongs to.
    expect(describeClose(4115, 'other:thing').detail).toBeUndefined();
  });

  it('backs off with full jitter: random × min(max, initial × 2^attempt)', () => {
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 500, 30_000, () => 1))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000,
    ]);
    expect(backoffDelay(10, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(2000);
    expect(backoffDelay(3, 500, 30_000, () => 0)).toBe(0);
  });
});
