import type { Principal } from './principal.js';

/**
 * The principals of tokens whose signature verified, by token, the `maxEntries` most recently
 * used ones (a Map keeps insertion order: re-inserting on a hit makes the first key the least
 * recently used). An entry ends at its token's `exp`.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Principal>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(token: string): Principal | undefined {
    const principal = this.entries.get(token);
    if (principal === undefined) return undefined;
    this.entries.delete(token);
    if (principal.expiresAt <= this.now()) return undefined;
    this.entries.set(token, principal);
    return principal;
  }

  set(token: string, principal: Principal): void {
    if (this.maxEntries <= 0 || principal.expiresAt <= this.now()) return;
    this.entries.delete(token);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, principal);
  }

  /** Forgets the tokens of `userId` (a walk over the cache, for rare events: the user changed). */
  forgetUser(userId: string): void {
    for (const [token, principal] of this.entries) if (principal.userId === userId) this.entries.delete(token);
  }

  clear(): void {
    this.entries.clear();
  }
}
