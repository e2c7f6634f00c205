import { TesseraError } from '../../../errors.js';
import { ExternalTokenRefused } from '../../external-tokens/refusal.js';
import { FetchJsonError } from '../../remote/fetch-json.js';
import { KeySetUnavailable } from '../../remote/key-sets.js';
import { ProviderDocumentError } from './discovery.js';

/** The check an ID token failed; named in the server's log, never to the client, never with the token itself. */
export type IdTokenCheck =
  | 'format'
  | 'typ'
  | 'issuer'
  | 'algorithm'
  | 'key'
  | 'signature'
  | 'claims'
  | 'sub'
  | 'audience'
  | 'azp'
  | 'exp'
  | 'nbf'
  | 'iat'
  | 'nonce';

const MESSAGES: Record<IdTokenCheck, string> = {
  format: 'The ID token is not a signed JWT.',
  typ: 'The token is not an ID token (its `typ` header names another kind of token).',
  issuer: 'The ID token’s issuer is not one of this app’s OpenID providers.',
  algorithm: 'The ID token is not signed with an asymmetric algorithm the provider uses.',
  key: 'No key of the provider matches the ID token.',
  signature: 'The ID token’s signature is not valid.',
  claims: 'The ID token lacks a required claim (iss, sub, aud, exp, iat).',
  sub: 'The ID token’s `sub` is not a string of 1 to 255 characters.',
  audience: 'The ID token was not issued to this app’s client id.',
  azp: 'The ID token has several audiences and its `azp` is not this app’s client id.',
  exp: 'The ID token has expired.',
  nbf: 'The ID token is not valid yet.',
  iat: 'The ID token was issued in the future.',
  nonce: 'The ID token’s nonce does not match the one given.',
};

/** The one `invalid_token` every refused ID token gets; `check` and its explanation are for the log. */
export function invalidIdToken(check: IdTokenCheck): ExternalTokenRefused {
  return new ExternalTokenRefused(check, MESSAGES[check]);
}

/** A provider that could not be reached, or whose documents cannot be used, as `idp_unreachable`. */
export function providerUnreachable(issuer: string, step: 'discovery' | 'jwks', error: unknown): TesseraError {
  const { reason, status } = failureOf(error);
  return new TesseraError('idp_unreachable', {
    message: `The OpenID provider could not be used: its ${step === 'discovery' ? 'discovery document' : 'key set'} ${describe(reason, status)}.`,
    details: { strategy: 'oidc', issuer, step, reason, ...(status === undefined ? {} : { status }) },
    cause: error,
  });
}

/** The reason on the wire: the fetch's own, except that a body which is not a key set is an `invalid_document`. */
function failureOf(error: unknown): { reason: string; status?: number | undefined } {
  if (error instanceof ProviderDocumentError) return { reason: error.reason };
  if (error instanceof KeySetUnavailable)
    return { reason: error.reason === 'not_a_key_set' ? 'invalid_document' : error.reason, status: error.status };
  if (error instanceof FetchJsonError) return { reason: error.reason, status: error.status };
  return { reason: 'network' };
}

function describe(reason: string, status: number | undefined): string {
  switch (reason) {
    case 'timeout':
      return 'did not arrive in time';
    case 'redirect':
      return 'answered with a redirect, which is not followed';
    case 'status':
      return `answered HTTP ${status ?? '?'} instead of 200`;
    case 'too_large':
      return 'is too large';
    case 'not_json':
      return 'is not JSON';
    case 'issuer_mismatch':
      return 'names another issuer';
    case 'invalid_document':
      return 'is not a valid document';
    default:
      return 'could not be fetched';
  }
}
