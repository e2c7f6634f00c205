import { importJWK, type CryptoKey } from 'jose';
import type { Logger } from 'pino';
import { isHmac, keyMismatch, type AsymmetricAlgorithm, type HmacAlgorithm } from './algorithms.js';
import {
  publicJwkOf,
  publicKeyStrengthProblem,
  secretBytes,
  secretStrengthProblem,
  type PublicKeyEntry,
} from './key-config.js';
import type { Jwk, JwksCache } from './jwks-cache.js';
import type { TrustedIssuerSettings } from './settings.js';
import type { TokenHeader } from './token-structure.js';
import { TokenRejected } from './token-rejected.js';

export type VerificationKey = CryptoKey | Uint8Array;

/** Which app asks: the id scopes cached key sets, the path names the app in the log. */
export interface AppScope {
  id: string;
  path: string;
}

/**
 * The keys a token may be verified with, chosen by the issuer's configuration and the token's
 * `alg` and `kid` — never by anything else the token says. An issuer has one kind of key, so
 * an HS256 token meets only shared secrets and an RS256 token only public keys: a public key
 * can never be used as an HMAC secret. Every key passes the key checks (auth/key-checks) before
 * it is used (a JWKS's keys in auth/remote/key-sets.ts, settings entries here); one they refuse
 * is skipped and logged once (`warn`), and the others stay usable. Imported keys and verdicts
 * are kept per configuration object, which is replaced whenever the app's settings or the
 * issuer's key set change.
 */
export class IssuerKeys {
  private readonly imported = new WeakMap<object, Map<string, Promise<CryptoKey>>>();
  /** Why a settings entry is refused, or null when it is not; judged once per object. */
  private readonly verdicts = new WeakMap<object, string | null>();

  constructor(
    private readonly jwks: JwksCache,
    private readonly logger: Logger,
  ) {}

  async candidates(app: AppScope, issuer: TrustedIssuerSettings, header: TokenHeader): Promise<VerificationKey[]> {
    const { alg } = header;
    const refused = (key: object, problem: () => string | undefined, facts: Record<string, unknown>) =>
      this.refused(key, problem, { app: app.path, issuer: issuer.id, ...facts });
    if (issuer.secrets !== undefined) {
      if (!isHmac(alg)) throw notForIssuer(alg);
      const usable = issuer.secrets.filter(
        (entry, index) =>
          !refused(entry, () => secretStrengthProblem(entry), { secret: `secrets.${index}`, kid: entry.kid }),
      );
      return secretCandidates(usable, alg, header.kid);
    }
    if (isHmac(alg)) throw notForIssuer(alg);
    if (issuer.publicKeys !== undefined) {
      const usable = issuer.publicKeys.filter(
        (entry) => !refused(entry, () => publicKeyStrengthProblem(entry), { kid: entry.kid }),
      );
      return this.publicKeyCandidates(usable, alg, header.kid);
    }
    const { jwks } = issuer;
    if (jwks === undefined || !jwks.algorithms.includes(alg)) throw notForIssuer(alg);
    // The key-set cache has run the key checks under the issuer's opt-in: every key here passed.
    const usable = await this.jwks.keys({ appId: app.id, appPath: app.path, issuerId: issuer.id }, jwks, header.kid);
    return this.jwksCandidates(usable, alg, header.kid);
  }

  /** Whether the key checks refuse the settings entry; logged when first judged (entries are new objects after each change). */
  private refused(key: object, problem: () => string | undefined, facts: Record<string, unknown>): boolean {
    let verdict = this.verdicts.get(key);
    if (verdict === undefined) {
      verdict = problem() ?? null;
      this.verdicts.set(key, verdict);
      if (verdict !== null)
        this.logger.warn(
          { ...facts, strategy: 'jwt', reason: verdict },
          'trusted issuer key refused by the key checks; it is not used',
        );
    }
    return verdict !== null;
  }

  private async publicKeyCandidates(
    entries: PublicKeyEntry[],
    alg: AsymmetricAlgorithm,
    kid: string | undefined,
  ): Promise<VerificationKey[]> {
    const sameAlg = entries.filter((entry) => entry.alg === alg);
    // Without a kid, only an issuer with a single key for this alg is unambiguous.
    const chosen =
      kid === undefined ? (sameAlg.length === 1 ? sameAlg : []) : sameAlg.filter((entry) => entry.kid === kid);
    const [entry] = chosen;
    if (entry === undefined) throw unknownKey(kid);
    return [await this.importOnce(entry, () => importPublicEntry(entry), alg)];
  }

  private async jwksCandidates(
    keys: readonly Jwk[],
    alg: AsymmetricAlgorithm,
    kid: string | undefined,
  ): Promise<VerificationKey[]> {
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
      throw new TokenRejected('unknown_key', "The issuer's key for this token cannot be used.");
    });
    byAlg.set(alg, key);
    return key;
  }
}

function secretCandidates(
  entries: NonNullable<TrustedIssuerSettings['secrets']>,
  alg: HmacAlgorithm,
  kid: string | undefined,
): VerificationKey[] {
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
  new TokenRejected(
    'unknown_key',
    kid === undefined
      ? 'The token has no kid, and the issuer has more than one usable key for its alg.'
      : "No usable key of this issuer has the token's kid.",
  );
