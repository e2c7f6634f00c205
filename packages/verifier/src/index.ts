/**
 * `@tessera/verifier`: the app's own servers (a chat server, a media server, an API) check
 * Tessera access tokens without calling Tessera on each request, and hear from Tessera's
 * revocation feed when sessions end.
 */
export { createVerifier, type Verifier, type VerifierOptions } from './verifier.js';
export { VerifierError } from './errors.js';
export type { FeedStatus } from './event-stream.js';
export type { FeedOptions } from './feed.js';
export type { KeySetOptions } from './key-set.js';
export type { Principal } from './principal.js';
export type { Revocation, RevocationCode, RevocationListener, RevocationSource } from './revocation.js';
export type { Timeline } from './timeline.js';
