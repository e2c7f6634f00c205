import { describe, expect, it } from 'vitest';
import { normalizePassword, passwordPolicyOf, type PasswordPolicy } from '../../src/auth/passwords/index.js';
import { TesseraError } from '../../src/errors.js';

const app = {
  name: 'chatterbox',
  namespace: 'acme-corp',
  settings: { passwordPolicy: { minLength: 8 } },
} as Parameters<typeof passwordPolicyOf>[0];
const policy: PasswordPolicy = passwordPolicyOf(app, {
  email: 'Margaret.Hamilton@Example.com',
  username: 'Apollo-Guidance',
});

function reasonOf(password: string, against: PasswordPolicy = policy): string | undefined {
  try {
    normalizePassword(password, against);
    return undefined;
  } catch (error) {
    if (!(error instanceof TesseraError)) throw error;
    expect(error.code).toBe('weak_password');
    return (error.details as { reason: string }).reason;
  }
}

describe('the password policy (issue 12)', () => {
  it("refuses the user's email, its local part, username and the app's and namespace's names, in any case and after NFKC", () => {
    for (const password of [
      'margaret.hamilton@example.com',
      'MARGARET.HAMILTON',
      'apollo-guidance',
      'ＡＰＯＬＬＯ-ＧＵＩＤＡＮＣＥ',
      'Chatterbox',
      'acme-corp',
    ])
      expect(reasonOf(password), password).toBe('context');
  });

  it('refuses them with trivial changes: digits, punctuation or spaces around them', () => {
    for (const password of [
      'Margaret.Hamilton1969',
      '!!margaret.hamilton!!',
      ' chatterbox2024 ',
      '123chatterbox456',
      'Chatterbox!',
    ])
      expect(reasonOf(password), password).toBe('context');
  });

  it("compares against the logins' own core too: a username or local part ending in digits is refused with other digits", () => {
    const digits = passwordPolicyOf(app, { email: 'grace.hopper.1906@example.com', username: 'cobol1959' });
    for (const password of ['grace.hopper.2024', 'Grace.Hopper!', 'Cobol1959!!', 'cobol2025'])
      expect(reasonOf(password, digits), password).toBe('context');
    for (const password of ['cobol is not dead', 'COBOL-forever-1'])
      expect(reasonOf(password, digits), password).toBeUndefined();
  });

  it('accepts passwords that only contain such a word among others', () => {
    for (const password of ['margaret hamilton wrote apollo code', 'my chatterbox is blue', 'chatterboxes everywhere'])
      expect(reasonOf(password), password).toBeUndefined();
  });

  it('counts the minimum in code points after NFKC, and names it in the refusal', () => {
    const fifteen = passwordPolicyOf({ ...app, settings: { passwordPolicy: { minLength: 15 } } } as typeof app, {});
    expect(reasonOf('fourteen chars', fifteen)).toBe('too_short');
    expect(reasonOf('fifteen chars!!', fifteen)).toBeUndefined();
    expect(reasonOf('🦄'.repeat(15), fifteen)).toBeUndefined();
    expect(() => normalizePassword('short', fifteen)).toThrow(
      expect.objectContaining({ details: { reason: 'too_short', minLength: 15, maxLength: 256 } }) as Error,
    );
  });

  it('still refuses common and over-long passwords, and returns the NFKC form', () => {
    expect(reasonOf('1qaz2wsx3edc4rfv')).toBe('common');
    expect(reasonOf('x'.repeat(257))).toBe('too_long');
    expect(normalizePassword('ｃｏｒｒｅｃｔ ｈｏｒｓｅ', policy)).toBe('correct horse');
  });

  it('ignores missing logins and does not refuse a password made only of digits for being empty once stripped', () => {
    const noLogins = passwordPolicyOf(app, { email: null, username: undefined });
    expect(reasonOf('1234987612349876', noLogins)).toBeUndefined();
  });
});
