import { createPublicKey } from 'node:crypto';
import { publicKeyProblem, type PublicKeyPolicy } from '../../key-checks/public-key.js';
import { weakSecretProblem } from '../../key-checks/shared-secret.js';
import { keyMismatch, minimumSecretBytes, type AsymmetricAlgorithm, type HmacAlgorithm } from './algorithms.js';

/**
 * Checks of the key material an admin gives for a trusted issuer, in two kinds. Shape (a key that
 * parses, fits its algorithm, is not private; a secret long enough) is part of the settings
 * schema, as it always was. Strength (the key checks of auth/key-checks: RSA exponent and size,
 * curve points, ROCA; a secret's randomness) is checked when settings are written — a bad key is
 * refused by the PATCH that sets it, with its path — and again before each key is used, so that
 * a key stored before a check existed is refused at login (and logged) instead of trusted.
 */

export type SecretEncoding = 'utf8' | 'base64url' | 'base64';

export interface SecretEntry {
  alg: HmacAlgorithm;
  secret: string;
  encoding: SecretEncoding;
}

export interface PublicKeyEntry {
  kid: string;
  alg: AsymmetricAlgorithm;
  jwk?: Record<string, unknown> | undefined;
  pem?: string | undefined;
  /** Opt-in: this RSA key's public exponent, when it is not 65537. */
  rsaExponent?: number | undefined;
}

/** The bytes of a shared secret, as the issuer's HMAC uses them (jsonwebtoken takes a string as UTF-8). */
export function secretBytes({ secret, encoding }: Pick<SecretEntry, 'secret' | 'encoding'>): Buffer {
  return encoding === 'utf8' ? Buffer.from(secret, 'utf8') : Buffer.from(secret, encoding);
}

/** Shape of a secret (schema refinement). */
export function secretProblem(entry: SecretEntry): string | undefined {
  if (/^\s*-----BEGIN /.test(entry.secret))
    return 'secret looks like a PEM key; public keys go under publicKeys, never under secrets (a secret: openssl rand -base64 32)';
  if (entry.encoding !== 'utf8' && !isCanonical(entry.secret, entry.encoding))
    return `secret is not valid ${entry.encoding}`;
  const bytes = secretBytes(entry).length;
  const minimum = minimumSecretBytes(entry.alg);
  return bytes < minimum
    ? `secret is ${bytes} bytes; ${entry.alg} needs at least ${minimum} (openssl rand -base64 ${minimum})`
    : undefined;
}

/** Strength of a secret: whether it is random enough (write time and use time). */
export function secretStrengthProblem(entry: SecretEntry): string | undefined {
  return weakSecretProblem(entry.secret, secretBytes(entry));
}

function isCanonical(text: string, encoding: 'base64url' | 'base64'): boolean {
  const pattern = encoding === 'base64url' ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9+/]*={0,2}$/;
  return pattern.test(text) && Buffer.from(text, encoding).toString(encoding) === text;
}

/** The public JWK of an entry, or why there is none. */
export function publicJwkOf(entry: PublicKeyEntry): { jwk: Record<string, unknown> } | { problem: string } {
  if ((entry.jwk === undefined) === (entry.pem === undefined))
    return { problem: 'give the key as exactly one of jwk or pem' };
  try {
    if (entry.pem !== undefined) {
      if (/PRIVATE KEY/.test(entry.pem))
        return { problem: 'pem is a private key; give only the public key (BEGIN PUBLIC KEY)' };
      return { jwk: { ...createPublicKey(entry.pem).export({ format: 'jwk' }) } };
    }
    const jwk = entry.jwk ?? {};
    const mismatch = keyMismatch(jwk, entry.alg);
    if (mismatch !== undefined) return { problem: `jwk ${mismatch}` };
    // Parse it for real: a JWK with the right kty but broken numbers is refused here, not at login.
    createPublicKey({ key: jwk, format: 'jwk' });
    return { jwk };
  } catch {
    // Node refuses, among others, EC points off their curve; the key checks say which flaw it is.
    const flaw = entry.jwk === undefined ? undefined : publicKeyProblem(entry.jwk);
    return {
      problem: `${entry.pem !== undefined ? 'pem' : 'jwk'} is not a valid public key${flaw === undefined ? '' : ` (${flaw})`}`,
    };
  }
}

/** Shape of a public key entry (schema refinement). */
export function publicKeyEntryProblem(entry: PublicKeyEntry): string | undefined {
  const result = publicJwkOf(entry);
  if ('problem' in result) return result.problem;
  const mismatch = keyMismatch(result.jwk, entry.alg);
  return mismatch === undefined ? undefined : `key ${mismatch}`;
}

/** The key checks' policy for a settings entry: only its own opted-in exponent besides 65537. */
export function entryPolicy(entry: Pick<PublicKeyEntry, 'rsaExponent'>): PublicKeyPolicy {
  return { rsaExponents: entry.rsaExponent === undefined ? [] : [entry.rsaExponent] };
}

/** Strength of a public key entry (write time and use time). */
export function publicKeyStrengthProblem(entry: PublicKeyEntry): string | undefined {
  const result = publicJwkOf(entry);
  if ('problem' in result) return result.problem;
  const problem = publicKeyProblem(result.jwk, entryPolicy(entry));
  return problem === undefined ? undefined : `key refused: ${problem}`;
}

interface IssuerKeyMaterial {
  secrets?: SecretEntry[] | undefined;
  publicKeys?: PublicKeyEntry[] | undefined;
}

/** The first key of the issuers that the key checks refuse, as `strategies.jwt.issuers.0.publicKeys.1: why`. */
export function issuersKeyStrengthProblem(issuers: readonly IssuerKeyMaterial[]): string | undefined {
  for (const [index, issuer] of issuers.entries()) {
    const path = `strategies.jwt.issuers.${index}`;
    for (const [position, entry] of (issuer.secrets ?? []).entries()) {
      const problem = secretStrengthProblem(entry);
      if (problem !== undefined) return `${path}.secrets.${position}: ${problem}`;
    }
    for (const [position, entry] of (issuer.publicKeys ?? []).entries()) {
      const problem = publicKeyStrengthProblem(entry);
      if (problem !== undefined) return `${path}.publicKeys.${position}: ${problem}`;
    }
  }
  return undefined;
}
