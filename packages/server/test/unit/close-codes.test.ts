import { CLOSE_CODE_RANGES, ERROR_CODES, type ErrorCode } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import type { RevocationReason } from '../../src/auth/sessions/revocations.js';
import { TesseraError } from '../../src/errors.js';
import {
  asTesseraError,
  causeOf,
  closeFrameOf,
  revocationCause,
  type CloseCause,
} from '../../src/realtime/close-codes.js';
import { DATABASE_RETRY_AFTER_SECONDS } from '../../src/store/errors.js';

const everyCode = Object.keys(ERROR_CODES) as ErrorCode[];
const inRange = (code: number, { from, to }: { from: number; to: number }) => code >= from && code <= to;

describe('close codes (realtime/close-codes.ts)', () => {
  it.each(everyCode)("closes for %s with the registry's close code and the code as reason", (code) => {
    const frame = closeFrameOf(causeOf(new TesseraError(code)));
    expect(frame).toEqual({ closeCode: ERROR_CODES[code].closeCode, reason: code });
    expect(
      inRange(frame.closeCode, CLOSE_CODE_RANGES.reconnectAllowed) ||
        inRange(frame.closeCode, CLOSE_CODE_RANGES.doNotReconnect),
    ).toBe(true);
  });

  it('adds a detail after a colon, unless the reason would pass the 123 bytes of a close frame', () => {
    expect(closeFrameOf({ code: 'session_revoked', detail: 'logout' })).toEqual({
      closeCode: ERROR_CODES.session_revoked.closeCode,
      reason: 'session_revoked:logout',
    });
    const fits = 'x'.repeat(123 - 'session_revoked:'.length);
    expect(closeFrameOf({ code: 'session_revoked', detail: fits }).reason).toBe(`session_revoked:${fits}`);
    expect(closeFrameOf({ code: 'session_revoked', detail: `${fits}x` }).reason).toBe('session_revoked');
    // Bytes, not characters: "é" is two of them in UTF-8.
    const accented = 'é'.repeat(Math.ceil(fits.length / 2) + 1);
    expect(closeFrameOf({ code: 'session_revoked', detail: accented }).reason).toBe('session_revoked');
  });

  it("takes a string `reason` of the error's details as the detail, and nothing else", () => {
    expect(causeOf(new TesseraError('session_revoked', { details: { reason: 'password_changed' } }))).toEqual({
      code: 'session_revoked',
      detail: 'password_changed',
    });
    expect(causeOf(new TesseraError('session_revoked', { details: { reason: 7 } }))).toEqual({
      code: 'session_revoked',
    });
    expect(causeOf(new TesseraError('invalid_request', { details: [{ path: '/', message: 'x' }] }))).toEqual({
      code: 'invalid_request',
    });
  });

  it('reads a thrown error in the registry: as it is, unavailable for a database outage, else internal_error', () => {
    const own = new TesseraError('rate_limited', { retryAfterSeconds: 4 });
    expect(asTesseraError(own)).toBe(own);

    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const outage = asTesseraError(refused);
    expect(outage).toMatchObject({ code: 'unavailable', retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
    expect(outage.cause).toBe(refused);
    expect(causeOf(refused)).toEqual({ code: 'unavailable' });

    const bug = new TypeError('undefined is not a function');
    expect(asTesseraError(bug)).toMatchObject({ code: 'internal_error', cause: bug });
    expect(closeFrameOf(causeOf('a thrown string'))).toEqual({
      closeCode: ERROR_CODES.internal_error.closeCode,
      reason: 'internal_error',
    });
  });
});

describe('revocationCause (realtime/close-codes.ts)', () => {
  // A Record over every reason: a new reason fails the typecheck until it is listed here.
  const expected: Record<RevocationReason, CloseCause> = {
    logout: { code: 'session_revoked', detail: 'logout' },
    revoked: { code: 'session_revoked', detail: 'revoked' },
    password_changed: { code: 'session_revoked', detail: 'password_changed' },
    user_deleted: { code: 'session_revoked', detail: 'user_deleted' },
    user_upgraded: { code: 'session_revoked', detail: 'user_upgraded' },
    revoked_before: { code: 'session_revoked', detail: 'revoked_before' },
    user_disabled: { code: 'user_disabled' },
    user_ended: { code: 'user_ended' },
    reconnect_token_reused: { code: 'reconnect_token_reused' },
  };

  it.each(Object.entries(expected) as [RevocationReason, CloseCause][])(
    'closes the sockets of sessions revoked for %s with %o',
    (reason, cause) => {
      expect(revocationCause(reason)).toEqual(cause);
    },
  );

  it('gives a session_revoked the reason a REST call with the same session reads in details', () => {
    for (const [reason, cause] of Object.entries(expected) as [RevocationReason, CloseCause][]) {
      if (cause.code !== 'session_revoked') continue;
      // SessionService refuses a revoked session's token with this error (see assertLive).
      const restAnswer = new TesseraError('session_revoked', { details: { reason } });
      expect(causeOf(restAnswer)).toEqual(revocationCause(reason));
      expect(closeFrameOf(revocationCause(reason)).reason).toBe(`session_revoked:${reason}`);
    }
  });
});
