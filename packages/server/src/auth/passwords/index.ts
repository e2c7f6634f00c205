export {
  PasswordHasher,
  OWASP_ARGON2ID,
  isImportableHash,
  type Argon2Parameters,
  type PasswordHasherOptions,
  type VerifyResult,
} from './hasher.js';
export {
  normalizePassword,
  passwordPolicyOf,
  type PasswordOwner,
  MAX_PASSWORD_LENGTH,
  DEFAULT_MIN_PASSWORD_LENGTH,
  type PasswordPolicy,
  type WeakPasswordReason,
} from './policy.js';
export { PasswordPolicySettings } from './settings.js';
