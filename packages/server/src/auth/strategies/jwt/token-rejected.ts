import { ExternalTokenRefused } from '../../external-tokens/refusal.js';

/** Why a trusted issuer's JWT was refused; written to the log, never sent to the client. */
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

/**
 * A trusted issuer's JWT refused: `invalid_token` (401) with the one generic message every
 * refused external token gets; the reason and `explanation` are for the server's log.
 */
export class TokenRejected extends ExternalTokenRefused {
  constructor(reason: RejectionReason, explanation: string, facts: Record<string, string> = {}) {
    super(reason, explanation, facts);
  }
}
