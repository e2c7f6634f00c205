/**
 * `@tessera/verifier`: the app's own servers (a chat server, a media server, an API) check
 * Tessera access tokens without calling Tessera on each request.
 */
export { createVerifier, type Verifier, type VerifierOptions } from './verifier.js';
export { VerifierError } from './errors.js';
export type { KeySetOptions } from './key-set.js';
export type { Principal } from './principal.js';
export type { Revocation, RevocationCode, RevocationListener, RevocationSource } from './revocation.js';
