export { PasswordHasher, OWASP_ARGON2ID, isImportableHash, type Argon2Parameters, type PasswordHasherOptions, type VerifyResult } from './hasher.js';
export { normalizePassword, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH } from './policy.js';
