import { fetchJson } from '../../remote/fetch-json.js';
import { outboundUrlProblem } from '../../remote/outbound-url.js';

/** What Tessera uses of a provider's discovery document. */
export interface ProviderMetadata {
  issuer: string;
  jwksUri: string;
  /** `id_token_signing_alg_values_supported`, when the provider lists it. */
  idTokenAlgorithms: string[] | undefined;
}

/** A discovery document that arrived but cannot be used. */
export class ProviderDocumentError extends Error {
  override name = 'ProviderDocumentError';

  constructor(readonly reason: 'issuer_mismatch' | 'invalid_document') {
    super(reason);
  }
}

// Discovery documents are a few KiB; a provider answering megabytes is broken or hostile.
const MAX_DOCUMENT_BYTES = 256 * 1024;

/** OpenID Connect Discovery 1.0, §4: the issuer without its trailing slash, then the well-known path. */
function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/** Whether Tessera may fetch from this URL: https, or http on a loopback host (tests, local development). */
export function isAllowedProviderUrl(value: string): boolean {
  return outboundUrlProblem(value, { plainHttp: 'loopback_only' }) === undefined;
}

/** Fetches and checks the discovery document of `issuer`; its `issuer` must equal the configured one exactly. */
export async function loadMetadata(issuer: string, timeoutMs: number): Promise<ProviderMetadata> {
  const document = await fetchJson({ url: discoveryUrl(issuer), timeoutMs, maxBytes: MAX_DOCUMENT_BYTES });
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
