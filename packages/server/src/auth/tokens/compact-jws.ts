import { sign } from 'node:crypto';
import type { Signer } from '../keys/signing-keys.js';

/** The protected headers of each signer's tokens, encoded once per token type. */
const encodedHeaders = new WeakMap<Signer, Map<string, string>>();

/**
 * Signs a JWT (RFC 7515 compact serialisation) with one of the apps' own keys, synchronously.
 * jose signs through WebCrypto, which hands every signature to the thread pool and back; a
 * login pays that round trip and its promises on the event loop, where node:crypto's one-shot
 * `sign` takes a few microseconds for Ed25519. jose still verifies every token, ours included.
 */
export function signCompactJws(signer: Signer, type: string, claims: object): string {
  let headers = encodedHeaders.get(signer);
  if (headers === undefined) encodedHeaders.set(signer, (headers = new Map<string, string>()));
  let header = headers.get(type);
  if (header === undefined) {
    header = base64url(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ: type }));
    headers.set(type, header);
  }
  const input = `${header}.${base64url(JSON.stringify(claims))}`;
  // ES256 signatures are r‖s (RFC 7518 §3.4), not the DER node:crypto gives by default.
  const signature =
    signer.alg === 'EdDSA'
      ? sign(null, Buffer.from(input), signer.privateKey)
      : sign('sha256', Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
