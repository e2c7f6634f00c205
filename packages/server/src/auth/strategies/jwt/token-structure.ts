import { isBareJsonObject } from '../../external-tokens/json-segment.js';
import { isSupportedAlgorithm, type Algorithm } from './algorithms.js';
import { parseStrictJson } from './strict-json.js';
import { TokenRejected } from './token-rejected.js';

/**
 * Structural checks made before any cryptography, so that the JOSE library only ever sees a
 * compact JWS of sane size whose every byte has one reading. Each check answers a known attack:
 * oversized input, JWE or unsecured tokens, lenient base64 (two encodings of one token, so one
 * signature for two strings), duplicate keys (two readings of one claim), keys carried in the
 * header (the token vouching for itself), and header parameters we do not understand.
 */

/** Larger tokens are refused before they are decoded. */
export const MAX_TOKEN_BYTES = 8 * 1024;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Printable ASCII without spaces, bounded: a `kid` is a lookup key, never a path or a query. */
const KID = /^[\x21-\x7e]{1,256}$/;

/** Header parameters a token may carry. Everything else is refused, `crit` included. */
const ALLOWED_HEADER = new Set(['alg', 'typ', 'kid', 'x5t', 'x5t#S256']);
/** Header parameters that carry or point at a key: the token would choose its own key. */
const KEY_CARRYING = new Set(['jwk', 'jku', 'x5u', 'x5c']);

export interface TokenHeader {
  alg: Algorithm;
  kid?: string;
  typ?: string;
}

export interface InspectedToken {
  header: TokenHeader;
  /** The claims as sent, not yet verified: only for choosing the issuer. */
  unverifiedClaims: Record<string, unknown>;
}

export function inspectToken(token: string): InspectedToken {
  if (token.length > MAX_TOKEN_BYTES)
    throw new TokenRejected('too_large', `The token is larger than ${MAX_TOKEN_BYTES} bytes.`);
  const segments = token.split('.');
  if (segments.length === 5)
    throw new TokenRejected('encrypted', 'Encrypted tokens (JWE) are not accepted; send a signed JWT.');
  if (segments.length !== 3) throw new TokenRejected('malformed', 'A JWT has three dot-separated parts.');
  const [headerPart = '', payloadPart = '', signaturePart = ''] = segments;
  const header = readHeader(decodeJsonSegment(headerPart, 'header'));
  const unverifiedClaims = decodeJsonSegment(payloadPart, 'payload');
  if (signaturePart === '' || decodeSegment(signaturePart, 'signature').length === 0)
    throw new TokenRejected('malformed', 'The token has no signature.');
  return { header, unverifiedClaims };
}

/** Strict base64url (RFC 7515 §2): no padding, no `+` or `/`, and it must re-encode to itself. */
function decodeSegment(segment: string, name: string): Buffer {
  if (segment === '' || !BASE64URL.test(segment) || segment.length % 4 === 1) {
    throw new TokenRejected('malformed', `The token's ${name} is not base64url.`);
  }
  const bytes = Buffer.from(segment, 'base64url');
  // Non-zero trailing bits decode to the same bytes as zero ones: only one spelling is accepted.
  if (bytes.toString('base64url') !== segment)
    throw new TokenRejected('malformed', `The token's ${name} is not canonical base64url.`);
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeJsonSegment(segment: string, name: 'header' | 'payload'): Record<string, unknown> {
  let text: string;
  try {
    const bytes = decodeSegment(segment, name);
    // No byte-order mark, whitespace or anything else around the object: one spelling per token.
    if (!isBareJsonObject(bytes))
      throw new TokenRejected('malformed', `The token's ${name} does not start with { and end with }.`);
    text = utf8.decode(bytes);
  } catch (error) {
    if (error instanceof TokenRejected) throw error;
    throw new TokenRejected('malformed', `The token's ${name} is not UTF-8.`);
  }
  const parsed = parseStrictJson(text);
  if (!parsed.ok) {
    const why = { invalid_json: 'is not JSON', duplicate_key: 'repeats a key', too_deep: 'is nested too deeply' }[
      parsed.problem
    ];
    throw new TokenRejected(
      parsed.problem === 'duplicate_key' ? 'duplicate_key' : 'malformed',
      `The token's ${name} ${why}.`,
    );
  }
  const { value } = parsed;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TokenRejected('malformed', `The token's ${name} is not a JSON object.`);
  return value as Record<string, unknown>;
}

function readHeader(header: Record<string, unknown>): TokenHeader {
  for (const name of Object.keys(header)) {
    if (KEY_CARRYING.has(name))
      throw new TokenRejected('key_in_header', `Keys carried in the token (${name}) are not accepted.`);
    if (name === 'crit')
      throw new TokenRejected('unknown_crit', 'The token marks header parameters as critical that are not understood.');
    if (name === 'enc' || name === 'zip')
      throw new TokenRejected('encrypted', 'Encrypted tokens (JWE) are not accepted; send a signed JWT.');
    if (!ALLOWED_HEADER.has(name))
      throw new TokenRejected(
        'header_not_allowed',
        `The header parameter ${JSON.stringify(name.slice(0, 32))} is not accepted.`,
      );
  }
  const { alg, kid, typ } = header;
  if (typeof alg === 'string' && alg.toLowerCase() === 'none')
    throw new TokenRejected('unsupported_alg', 'Unsigned tokens (alg none) are not accepted.');
  if (!isSupportedAlgorithm(alg)) throw new TokenRejected('unsupported_alg', "The token's alg is not supported.");
  if (kid !== undefined && (typeof kid !== 'string' || !KID.test(kid)))
    throw new TokenRejected('bad_kid', "The token's kid is not a short printable string.");
  if (typ !== undefined && (typeof typ !== 'string' || typ.length > 64))
    throw new TokenRejected('malformed', "The token's typ is not a short string.");
  for (const name of ['x5t', 'x5t#S256']) {
    if (header[name] !== undefined && typeof header[name] !== 'string')
      throw new TokenRejected('malformed', `The token's ${name} is not a string.`);
  }
  return { alg, ...(kid === undefined ? {} : { kid }), ...(typ === undefined ? {} : { typ }) };
}
