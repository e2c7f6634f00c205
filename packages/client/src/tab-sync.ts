import { parse, serialize, type Credentials } from './credentials.js';

type SyncMessage = { t: 'rotating' | 'failed'; from: string } | { t: 'rotated'; from: string; next: string };

/** A reconnect token's public part (`rt_<id>`): enough to name it, useless to spend it. */
const idOf = (token: string): string => token.split('.')[0] ?? token;

/**
 * Tells the other tabs of the origin, over a BroadcastChannel, when this tab rotates the
 * shared tokens. The lock already keeps two tabs from rotating at once; this closes the gap the
 * lock leaves: browsers copy a `localStorage` write to other tabs asynchronously, so a tab that
 * takes the lock right after another released it may still read the tokens the other just
 * spent. Such a tab asks here first: a rotation of its token that it heard begin, it waits for.
 */
export class TabSync {
  private readonly channel: BroadcastChannel;
  /** Rotations heard begun and not yet finished, by the id of the token they started from. */
  private readonly begun = new Set<string>();
  /** Finished rotations' results, newest last, by the id of the token they started from. */
  private readonly results = new Map<string, Credentials>();
  private readonly listeners = new Set<() => void>();

  constructor(
    name: string,
    private readonly adopt: (fromTokenId: string, next: Credentials) => void,
    private readonly waitMs = 5000,
  ) {
    this.channel = new BroadcastChannel(`tessera-sync:${name}`);
    this.channel.onmessage = ({ data }: MessageEvent<SyncMessage>) => this.receive(data);
    // Node.js: an open channel must not keep the process alive.
    (this.channel as { unref?: () => void }).unref?.();
  }

  /** This tab starts rotating from `token`. */
  rotating(token: string | undefined): void {
    if (token !== undefined) this.channel.postMessage({ t: 'rotating', from: idOf(token) } satisfies SyncMessage);
  }

  /** This tab's rotation from `token` ended: with `next`, or failed. */
  rotated(token: string | undefined, next: Credentials | undefined): void {
    if (token === undefined) return;
    const message: SyncMessage =
      next === undefined
        ? { t: 'failed', from: idOf(token) }
        : { t: 'rotated', from: idOf(token), next: serialize(next) };
    this.channel.postMessage(message);
  }

  /**
   * What another tab rotated `token` into, if this tab heard of it; while such a rotation is
   * under way, waits for its end (at most `waitMs`). Undefined: nobody else rotated `token`.
   */
  async successorOf(token: string): Promise<Credentials | undefined> {
    const id = idOf(token);
    const deadline = Date.now() + this.waitMs;
    while (!this.results.has(id) && this.begun.has(id) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, deadline - Date.now());
        const listeners = this.listeners;
        function done(): void {
          clearTimeout(timer);
          listeners.delete(done);
          resolve();
        }
        listeners.add(done);
      });
    }
    return this.results.get(id);
  }

  close(): void {
    this.channel.close();
  }

  private receive(message: SyncMessage): void {
    if (message.t === 'rotating') {
      this.begun.add(message.from);
      // A tab closed mid-rotation never says it ended; keep the set small.
      for (const old of this.begun) if (this.begun.size > 16) this.begun.delete(old);
    } else {
      this.begun.delete(message.from);
    }
    if (message.t === 'rotated') {
      const next = parse(message.next);
      if (next !== null) {
        this.results.set(message.from, next);
        // A handful of recent rotations is all a late tab can need.
        for (const old of this.results.keys()) if (this.results.size > 8) this.results.delete(old);
        this.adopt(message.from, next);
      }
    }
    for (const listener of [...this.listeners]) listener();
  }
}

export { idOf as reconnectTokenId };
