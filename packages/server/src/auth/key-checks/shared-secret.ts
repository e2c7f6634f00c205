/**
 * Whether an HMAC shared secret is random enough to sign tokens with. Length alone is not:
 * 64 times "a", "passwordpassword…", or a public key pasted where the secret goes are long and
 * still guessable or public. The bytes are checked as the HMAC uses them and, when the text
 * is itself hex or base64, as the bytes it spells too.
 */

export const MAKE_A_SECRET = 'make one with: openssl rand -base64 32';

/*
 * Thresholds: none refused one of 100,000 random secrets of each kind `openssl rand` makes
 * (-hex 16, -hex 32, -base64 24, -base64 32, raw bytes), the weakest of which is 32 hex digits.
 */
/** Fewer distinct bytes than this is not random (32 random hex digits show ~14 distinct). */
const MIN_DISTINCT_BYTES = 8;
/** Estimated entropy (Shannon entropy per byte × length), in bits. 32 random hex digits show ~110. */
const MIN_ENTROPY_BITS = 80;
/** A text that equals itself shifted by a few characters at this share of places repeats a pattern. */
const REPEAT_SHARE = 0.75;
/** Decoded text shorter than this is not checked again as bytes (a word can happen to be base64). */
const MIN_DECODED_BYTES = 16;

/** Why the secret (its text and the bytes the HMAC uses) is weak, or undefined when it is not. */
export function weakSecretProblem(text: string, bytes: Uint8Array): string | undefined {
  const shape = publicMaterialProblem(text);
  if (shape !== undefined) return `secret ${shape}; ${MAKE_A_SECRET}`;
  const weakness = weakBytesProblem(bytes) ?? weakBytesProblem(decodedIfEncoded(text));
  return weakness === undefined ? undefined : `secret ${weakness}; ${MAKE_A_SECRET}`;
}

/** Text that is a key or a key's container: public, or a private key that belongs elsewhere. */
function publicMaterialProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (/-----BEGIN [A-Z0-9 ]+-----/.test(trimmed))
    return 'is a PEM block (a key or certificate), not a shared secret; public keys go under publicKeys';
  if (/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-)\S* AAAA/.test(trimmed)) return 'is an SSH public key, not a shared secret';
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed === 'object' && parsed !== null && ('kty' in parsed || 'keys' in parsed))
        return 'is a JWK, not a shared secret; public keys go under publicKeys';
    } catch {
      // Not JSON: judged by its bytes below.
    }
  }
  return undefined;
}

function weakBytesProblem(bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined || bytes.length === 0) return undefined;
  const counts = new Map<number, number>();
  for (const byte of bytes) counts.set(byte, (counts.get(byte) ?? 0) + 1);
  if (counts.size === 1) return 'is one character repeated';
  const period = repeatingPeriod(bytes);
  if (period !== undefined) return `repeats a pattern of ${period} character${period === 1 ? '' : 's'}`;
  if (counts.size < Math.min(MIN_DISTINCT_BYTES, bytes.length / 2))
    return `uses only ${counts.size} distinct characters`;
  if (isMostlySequential(bytes)) return 'is mostly a run of consecutive characters (abcd…, 1234…)';
  const bits = shannonBits(counts, bytes.length);
  if (bits < Math.min(MIN_ENTROPY_BITS, bytes.length * 2.5))
    return `has an estimated entropy of ${Math.floor(bits)} bits; at least ${MIN_ENTROPY_BITS} are needed`;
  return undefined;
}

/**
 * The shortest shift p (up to half the length) at which the bytes mostly equal themselves:
 * "passwordpassword…" at 8, and "Tr0ub4dor&3" three times with a few characters added too.
 */
function repeatingPeriod(bytes: Uint8Array): number | undefined {
  for (let period = 1; period <= bytes.length / 2; period += 1) {
    let same = 0;
    for (let index = period; index < bytes.length; index += 1) if (bytes[index] === bytes[index - period]) same += 1;
    if (same >= REPEAT_SHARE * (bytes.length - period)) return period;
  }
  return undefined;
}

function isMostlySequential(bytes: Uint8Array): boolean {
  let steps = 0;
  for (let index = 1; index < bytes.length; index += 1) {
    const difference = (bytes[index] ?? 0) - (bytes[index - 1] ?? 0);
    if (difference === 1 || difference === -1) steps += 1;
  }
  return steps > (bytes.length - 1) / 2;
}

function shannonBits(counts: Map<number, number>, length: number): number {
  let perByte = 0;
  for (const count of counts.values()) perByte -= (count / length) * Math.log2(count / length);
  return perByte * length;
}

/** The bytes a hex or base64 text spells, when it is one (and long enough to tell). */
function decodedIfEncoded(text: string): Uint8Array | undefined {
  let bytes: Buffer | undefined;
  if (/^(?:[0-9a-f]{2})+$/i.test(text)) bytes = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) bytes = Buffer.from(text, 'base64');
  else if (/^[A-Za-z0-9_-]+$/.test(text) && text.length % 4 !== 1) bytes = Buffer.from(text, 'base64url');
  return bytes !== undefined && bytes.length >= MIN_DECODED_BYTES ? bytes : undefined;
}
