import { TesseraError } from '../../../errors.js';

/** Why an external token was refused; sent as `details.reason` so an integrator can tell. */
export type RejectionReason =
  | 'too_large'
  | 'malformed'
  | 'encrypted'
  | 'duplicate_key'
  | 'key_in_header'
  | 'unknown_crit'
  | 'header_not_allowed'
  | 'unsupported_alg'
  | 'bad_kid'
  | 'unknown_issuer'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'claim_mismatch'
  | 'missing_claim'
  | 'bad_user_id';

/** An external JWT refused: always `invalid_token` (401), with the reason in `details`. */
export class TokenRejected extends TesseraError {
  constructor(
    readonly reason: RejectionReason,
    message: string,
    extra: Record<string, string> = {},
  ) {
    super('invalid_token', { message, details: { reason, ...extra } });
  }
}
