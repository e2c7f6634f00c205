import { readFileSync } from 'node:fs';
import { TesseraError } from '../../errors.js';
import type { AppRecord } from '../../store/repositories/index.js';

/** The shortest minimum an app may set: NIST SP 800-63B-4 allows 8 only where a second factor guards the account. */
export const LOWEST_MIN_PASSWORD_LENGTH = 8;
/** The default minimum: NIST SP 800-63B-4 §3.1.1.2 asks 15 for a password used alone, which is every Tessera password today. */
export const DEFAULT_MIN_PASSWORD_LENGTH = 15;
/** The highest minimum an app may set. */
export const HIGHEST_MIN_PASSWORD_LENGTH = 64;
export const MAX_PASSWORD_LENGTH = 256;

/** What a new password is checked against: the app's minimum and the words of its context. */
export interface PasswordPolicy {
  minLength: number;
  /**
   * Context-specific words the password may not be (NIST SP 800-63B-4 §3.1.1.2): the user's email,
   * its local part, the username, the app's and its namespace's names. Missing ones are null.
   */
  contextWords: ReadonlyArray<string | null | undefined>;
}

/** Who the new password is for: the logins it may not be. */
export interface PasswordOwner {
  email?: string | null | undefined;
  username?: string | null | undefined;
}

/** The app's policy for a password of `owner`. */
export function passwordPolicyOf(
  app: Pick<AppRecord, 'name' | 'namespace' | 'settings'>,
  owner: PasswordOwner,
): PasswordPolicy {
  return {
    minLength: app.settings.passwordPolicy.minLength,
    contextWords: [owner.email, owner.username, app.name, app.namespace],
  };
}

export type WeakPasswordReason = 'too_short' | 'too_long' | 'common' | 'context';

let commonPasswords: ReadonlySet<string> | undefined;

/** The shipped list (see scripts/build-common-passwords.mjs), read once on first use. */
function isCommon(password: string): boolean {
  commonPasswords ??= new Set(
    readFileSync(new URL('../../../assets/common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter(Boolean),
  );
  return commonPasswords.has(password.toLowerCase());
}

/** Case-folded after NFKC, as passwords and logins are compared. */
const fold = (text: string): string => text.normalize('NFKC').toLowerCase();

/**
 * The word a password is "with trivial changes": case folded and stripped of what surrounds it
 * that is not a letter (digits, punctuation, symbols, spaces), so `Ada2024!`, `!!ada!!` and
 * `ada123456789012` are all `ada`.
 */
const coreOf = (password: string): string => fold(password).replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');

/**
 * The context words as compared: folded, with an email's local part added, and each also as its
 * core (a username `ada1815` is also `ada`, so `Ada2024!` is refused for it); empty ones dropped.
 */
function contextWordsOf(words: PasswordPolicy['contextWords']): Set<string> {
  const folded = new Set<string>();
  for (const word of words) {
    if (word === null || word === undefined) continue;
    const value = fold(word.trim());
    const at = value.lastIndexOf('@');
    for (const form of at > 0 ? [value, value.slice(0, at)] : [value]) {
      folded.add(form);
      folded.add(coreOf(form));
    }
  }
  folded.delete('');
  return folded;
}

/** Whether the password is one of the context words, as is or with trivial changes (see `coreOf`). */
function isContextWord(normalized: string, words: PasswordPolicy['contextWords']): boolean {
  const context = contextWordsOf(words);
  const core = coreOf(normalized);
  return context.has(fold(normalized)) || (core !== '' && context.has(core));
}

function weak(reason: WeakPasswordReason, message: string, minLength: number): TesseraError {
  return new TesseraError('weak_password', { message, details: { reason, minLength, maxLength: MAX_PASSWORD_LENGTH } });
}

/**
 * Checks a new password against the app's policy (NIST SP 800-63B-4 §3.1.1.2): the app's
 * minimum to 256 characters counted in code points after NFKC normalisation, no composition
 * rules, not one of the shipped common passwords, and not a word of its context (the user's
 * email or its local part, username, the app's name) even with surrounding digits or symbols or
 * another case. Returns the normalised password, which is what gets hashed. Applies when a
 * password is set: stored passwords keep working when the policy tightens.
 */
export function normalizePassword(password: string, policy: PasswordPolicy): string {
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  const { minLength } = policy;
  if (length < minLength)
    throw weak('too_short', `The password must have at least ${minLength} characters.`, minLength);
  if (length > MAX_PASSWORD_LENGTH)
    throw weak('too_long', `The password must have at most ${MAX_PASSWORD_LENGTH} characters.`, minLength);
  if (isCommon(normalized)) throw weak('common', 'This password is too common; choose another.', minLength);
  if (isContextWord(normalized, policy.contextWords))
    throw weak(
      'context',
      "The password may not be your email, username or the app's name, even with digits or symbols around it.",
      minLength,
    );
  return normalized;
}
