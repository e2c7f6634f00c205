import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import { publicKeyProblem } from '../../key-checks/public-key.js';
import { fetchJson } from './fetch-json.js';

/** What Tessera uses of a provider's discovery document. */
export interface ProviderMetadata {
  issuer: string;
  jwksUri: string;
  /** `id_token_signing_alg_values_supported`, when the provider lists it. */
  idTokenAlgorithms: string[] | undefined;
}

/** A provider's verification keys, ready for jose. */
export interface ProviderKeys {
  getKey: JWTVerifyGetKey;
  /** Keys of the set that the key checks refused, left out of `getKey`. */
  refused: RefusedKey[];
}

export interface RefusedKey {
  kid: string | undefined;
  reason: string;
}

/** A discovery document or key set that arrived but cannot be used. */
export class ProviderDocumentError extends Error {
  override name = 'ProviderDocumentError';

  constructor(readonly reason: 'issuer_mismatch' | 'invalid_document') {
    super(reason);
  }
}

// Discovery documents and key sets are a few KiB; a provider answering megabytes is broken or hostile.
const MAX_DOCUMENT_BYTES = 256 * 1024;
const MAX_KEYS = 100;

/** OpenID Connect Discovery 1.0, §4: the issuer without its trailing slash, then the well-known path. */
function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/** Whether Tessera may fetch from this URL: https, or http on a loopback host (tests, local development). */
function isAllowedProviderUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** Fetches and checks the discovery document of `issuer`; its `issuer` must equal the configured one exactly. */
export async function loadMetadata(issuer: string, timeoutMs: number): Promise<ProviderMetadata> {
  const document = await fetchJson(discoveryUrl(issuer), { timeoutMs, maxBytes: MAX_DOCUMENT_BYTES });
  if (!isRecord(document)) throw new ProviderDocumentError('invalid_document');
  // §4.3: a document naming another issuer must not be used, or one provider could speak for another.
  if (document.issuer !== issuer) throw new ProviderDocumentError('issuer_mismatch');
  const { jwks_uri: jwksUri, id_token_signing_alg_values_supported: algorithms } = document;
  if (typeof jwksUri !== 'string' || !isAllowedProviderUrl(jwksUri))
    throw new ProviderDocumentError('invalid_document');
  if (algorithms !== undefined && !(Array.isArray(algorithms) && algorithms.every((alg) => typeof alg === 'string'))) {
    throw new ProviderDocumentError('invalid_document');
  }
  return { issuer, jwksUri, idTokenAlgorithms: algorithms };
}

/**
 * Fetches the provider's JSON Web Key Set. Every key passes the key checks (auth/key-checks:
 * RSA exponent 65537 and at least 2048 bits, points on their curve, no ROCA modulus) or is left
 * out, the rest of the set staying usable. Keys that are not public signing keys never match a
 * token (jose checks).
 */
export async function loadKeys(jwksUri: string, timeoutMs: number): Promise<ProviderKeys> {
  const document = await fetchJson(jwksUri, { timeoutMs, maxBytes: MAX_DOCUMENT_BYTES });
  if (!isRecord(document) || !Array.isArray(document.keys) || document.keys.length > MAX_KEYS)
    throw new ProviderDocumentError('invalid_document');
  const keys: JWK[] = [];
  const refused: RefusedKey[] = [];
  for (const key of document.keys as unknown[]) {
    if (!isRecord(key)) throw new ProviderDocumentError('invalid_document');
    // Symmetric and encryption keys never verify an ID token here: left out, not judged.
    if (key.kty === 'oct' || key.use === 'enc') continue;
    const problem = publicKeyProblem(key);
    if (problem === undefined) keys.push(key);
    else refused.push({ kid: typeof key.kid === 'string' ? key.kid.slice(0, 256) : undefined, reason: problem });
  }
  try {
    return { getKey: createLocalJWKSet({ keys }), refused };
  } catch {
    throw new ProviderDocumentError('invalid_document');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
