import { importJWK, type CryptoKey } from 'jose';
import { isHmac, keyMismatch, type AsymmetricAlgorithm, type HmacAlgorithm } from './algorithms.js';
import { publicJwkOf, secretBytes, type PublicKeyEntry } from './key-config.js';
import type { Jwk, JwksCache } from './jwks-cache.js';
import type { TrustedIssuerSettings } from './settings.js';
import type { TokenHeader } from './token-structure.js';
import { TokenRejected } from './token-rejected.js';

export type VerificationKey = CryptoKey | Uint8Array;

/**
 * The keys a token may be verified with, chosen by the issuer's configuration and the token's
 * `alg` and `kid` — never by anything else the token says. An issuer has one kind of key, so
 * an HS256 token meets only shared secrets and an RS256 token only public keys: a public key
 * can never be used as an HMAC secret. Imported keys are kept per configuration object, which
 * is replaced whenever the app's settings or the issuer's key set change.
 */
export class IssuerKeys {
  private readonly imported = new WeakMap<object, Map<string, Promise<CryptoKey>>>();

  constructor(private readonly jwks: JwksCache) {}

  async candidates(appId: string, issuer: TrustedIssuerSettings, header: TokenHeader): Promise<VerificationKey[]> {
    const { alg } = header;
    if (issuer.secrets !== undefined) {
      if (!isHmac(alg)) throw notForIssuer(alg);
      return secretCandidates(issuer.secrets, alg, header.kid);
    }
    if (isHmac(alg)) throw notForIssuer(alg);
    if (issuer.publicKeys !== undefined) return this.publicKeyCandidates(issuer.publicKeys, alg, header.kid);
    if (issuer.jwks === undefined || !issuer.jwks.algorithms.includes(alg)) throw notForIssuer(alg);
    const keys = await this.jwks.keys(`${appId}\n${issuer.id}\n${issuer.jwks.url}`, issuer.jwks, header.kid);
    return this.jwksCandidates(keys, alg, header.kid);
  }

  private async publicKeyCandidates(entries: PublicKeyEntry[], alg: AsymmetricAlgorithm, kid: string | undefined): Promise<VerificationKey[]> {
    const sameAlg = entries.filter((entry) => entry.alg === alg);
    // Without a kid, only an issuer with a single key for this alg is unambiguous.
    const chosen = kid === undefined ? (sameAlg.length === 1 ? sameAlg : []) : sameAlg.filter((entry) => entry.kid === kid);
    const [entry] = chosen;
    if (entry === undefined) throw unknownKey(kid);
    return [await this.importOnce(entry, () => importPublicEntry(entry), alg)];
  }

  private async jwksCandidates(keys: Jwk[], alg: AsymmetricAlgorithm, kid: string | undefined): Promise<VerificationKey[]> {
    const usable = keys.filter((key) => keyMismatch(key, alg) === undefined);
    const chosen = kid === undefined ? (usable.length === 1 ? usable : []) : usable.filter((key) => key.kid === kid);
    const [jwk] = chosen;
    if (jwk === undefined) throw unknownKey(kid);
    return [await this.importOnce(jwk, () => importJWK(jwk, alg) as Promise<CryptoKey>, alg)];
  }

  /** One import per key object and alg: a JWKS key without `alg` may be met with several. */
  private importOnce(owner: object, load: () => Promise<CryptoKey>, alg: string): Promise<CryptoKey> {
    let byAlg = this.imported.get(owner);
    if (byAlg === undefined) this.imported.set(owner, (byAlg = new Map<string, Promise<CryptoKey>>()));
    const known = byAlg.get(alg);
    if (known !== undefined) return known;
    const key = load().catch(() => {
      byAlg.delete(alg);
      throw new TokenRejected('unknown_key', 'The issuer\'s key for this token cannot be used.');
    });
    byAlg.set(alg, key);
    return key;
  }
}

function secretCandidates(entries: NonNullable<TrustedIssuerSettings['secrets']>, alg: HmacAlgorithm, kid: string | undefined): VerificationKey[] {
  const sameAlg = entries.filter((entry) => entry.alg === alg);
  const byKid = kid === undefined ? [] : sameAlg.filter((entry) => entry.kid === kid);
  // A kid that names a secret picks it; otherwise the secrets without a kid are tried (at most four).
  const chosen = byKid.length > 0 ? byKid : sameAlg.filter((entry) => entry.kid === undefined);
  if (chosen.length === 0) throw unknownKey(kid);
  return chosen.map((entry) => new Uint8Array(secretBytes(entry)));
}

async function importPublicEntry(entry: PublicKeyEntry): Promise<CryptoKey> {
  const result = publicJwkOf(entry);
  if ('problem' in result) throw new Error(result.problem);
  return (await importJWK(result.jwk, entry.alg)) as CryptoKey;
}

const notForIssuer = (alg: string) => new TokenRejected('unsupported_alg', `This issuer does not sign with ${alg}.`);
const unknownKey = (kid: string | undefined) =>
  new TokenRejected('unknown_key', kid === undefined ? 'The token has no kid, and the issuer has more than one key for its alg.' : 'No key of this issuer has the token\'s kid.');
