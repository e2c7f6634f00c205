import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque credentials (API keys, admin tokens, auth tokens, reconnect tokens) look like `prefix_id.secret`.
 * The id finds the row; only a SHA-256 of the secret is stored, and it is compared in constant
 * time. A database leak therefore yields no usable credential.
 */
export interface OpaqueToken {
  /** The whole credential, shown to its owner once. */
  token: string;
  id: string;
  secretHash: string;
}

export type OpaqueTokenPrefix = 'pk' | 'sk' | 'adm' | 'at' | 'rt';

const TOKEN_PATTERN = /^(pk|sk|adm|at|rt)_([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

const ID_BYTES = 12;
const SECRET_BYTES = 32;

export function createOpaqueToken(prefix: OpaqueTokenPrefix): OpaqueToken {
  return opaqueTokenOf(prefix, randomBytes(ID_BYTES + SECRET_BYTES));
}

/**
 * The credential that `key` and `material` always make: the same inputs give the same token, and
 * without `key` nobody can tell it from a random one (HMAC-SHA-512, a pseudorandom function).
 * For a successor that every retry of one request must agree on (see auth/sessions/reconnect-tokens.ts).
 */
export function deriveOpaqueToken(prefix: OpaqueTokenPrefix, key: Buffer, material: string): OpaqueToken {
  return opaqueTokenOf(prefix, createHmac('sha512', key).update(material).digest());
}

function opaqueTokenOf(prefix: OpaqueTokenPrefix, bytes: Buffer): OpaqueToken {
  const idBytes = Buffer.from(bytes.subarray(0, ID_BYTES));
  // An id is typed on command lines (`tessera key revoke acme/chat <id>`), where one that begins
  // with a dash reads as an option: a first byte of 0xF8 or more (base64url '-' or '_') loses its
  // top bit. The id only finds the row; the secret carries the entropy.
  const first = idBytes[0] ?? 0;
  if (first >= 0xf8) idBytes[0] = first & 0x7f;
  const id = idBytes.toString('base64url');
  const secret = bytes.subarray(ID_BYTES, ID_BYTES + SECRET_BYTES).toString('base64url');
  return { token: `${prefix}_${id}.${secret}`, id, secretHash: hashSecret(secret) };
}

export interface ParsedOpaqueToken {
  prefix: OpaqueTokenPrefix;
  id: string;
  secret: string;
}

/** Splits a credential into its parts, or null when it is not one of ours. */
export function parseOpaqueToken(token: string): ParsedOpaqueToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (match === null) return null;
  return { prefix: match[1] as OpaqueTokenPrefix, id: match[2]!, secret: match[3]! };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret));
  const stored = Buffer.from(storedHash);
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
