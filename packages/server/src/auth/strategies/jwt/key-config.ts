import { createPublicKey } from 'node:crypto';
import { keyMismatch, minimumSecretBytes, type AsymmetricAlgorithm, type HmacAlgorithm } from './algorithms.js';

/**
 * Configuration-time checks of the key material an admin gives for a trusted issuer. They run
 * synchronously inside the settings schema (TypeBox refinements), so a bad key is refused by
 * the PATCH that sets it, with the path of the offending entry, and never met at login.
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
}

/** The bytes of a shared secret, as the issuer's HMAC uses them (jsonwebtoken takes a string as UTF-8). */
export function secretBytes({ secret, encoding }: Pick<SecretEntry, 'secret' | 'encoding'>): Buffer {
  return encoding === 'utf8' ? Buffer.from(secret, 'utf8') : Buffer.from(secret, encoding);
}

export function secretProblem(entry: SecretEntry): string | undefined {
  if (/^\s*-----BEGIN /.test(entry.secret)) return 'secret looks like a PEM key; public keys go under publicKeys, never under secrets';
  if (entry.encoding !== 'utf8' && !isCanonical(entry.secret, entry.encoding)) return `secret is not valid ${entry.encoding}`;
  const bytes = secretBytes(entry).length;
  const minimum = minimumSecretBytes(entry.alg);
  return bytes < minimum ? `secret is ${bytes} bytes; ${entry.alg} needs at least ${minimum} (openssl rand -base64 ${minimum})` : undefined;
}

function isCanonical(text: string, encoding: 'base64url' | 'base64'): boolean {
  const pattern = encoding === 'base64url' ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9+/]*={0,2}$/;
  return pattern.test(text) && Buffer.from(text, encoding).toString(encoding) === text;
}

/** The public JWK of an entry, or why there is none. */
export function publicJwkOf(entry: PublicKeyEntry): { jwk: Record<string, unknown> } | { problem: string } {
  if ((entry.jwk === undefined) === (entry.pem === undefined)) return { problem: 'give the key as exactly one of jwk or pem' };
  try {
    if (entry.pem !== undefined) {
      if (/PRIVATE KEY/.test(entry.pem)) return { problem: 'pem is a private key; give only the public key (BEGIN PUBLIC KEY)' };
      return { jwk: { ...createPublicKey(entry.pem).export({ format: 'jwk' }) } };
    }
    const jwk = entry.jwk ?? {};
    const mismatch = keyMismatch(jwk, entry.alg);
    if (mismatch !== undefined) return { problem: `jwk ${mismatch}` };
    // Parse it for real: a JWK with the right kty but broken numbers is refused here, not at login.
    createPublicKey({ key: jwk, format: 'jwk' });
    return { jwk };
  } catch {
    return { problem: `${entry.pem !== undefined ? 'pem' : 'jwk'} is not a valid public key` };
  }
}

export function publicKeyProblem(entry: PublicKeyEntry): string | undefined {
  const result = publicJwkOf(entry);
  if ('problem' in result) return result.problem;
  const mismatch = keyMismatch(result.jwk, entry.alg);
  return mismatch === undefined ? undefined : `key ${mismatch}`;
}
