import { readFileSync } from 'node:fs';
import { TesseraError } from '../../errors.js';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

let commonPasswords: ReadonlySet<string> | undefined;

/** The shipped list (see scripts/build-common-passwords.mjs), read once on first use. */
function isCommon(password: string): boolean {
  commonPasswords ??= new Set(readFileSync(new URL('../../../assets/common-passwords.txt', import.meta.url), 'utf8').split('\n').filter(Boolean));
  return commonPasswords.has(password.toLowerCase());
}

/**
 * Checks a new password against the policy (NIST SP 800-63B §5.1.1.2): 8 to 256 characters
 * counted in code points after NFKC normalisation, no composition rules, and not one of the
 * shipped common passwords. Returns the normalised password, which is what gets hashed.
 */
export function normalizePassword(password: string): string {
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  const limits = { minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH };
  if (length < MIN_PASSWORD_LENGTH) {
    throw new TesseraError('weak_password', { message: `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`, details: { reason: 'too_short', ...limits } });
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new TesseraError('weak_password', { message: `The password must have at most ${MAX_PASSWORD_LENGTH} characters.`, details: { reason: 'too_long', ...limits } });
  }
  if (isCommon(normalized)) {
    throw new TesseraError('weak_password', { message: 'This password is too common; choose another.', details: { reason: 'common', ...limits } });
  }
  return normalized;
}
