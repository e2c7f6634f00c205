/** One socket's place in its address's count; giving it back twice counts once. */
export interface PendingSlot {
  readonly release: () => void;
}

const UNCOUNTED: PendingSlot = { release: () => undefined };

/**
 * Sockets of each client address that are open but not authenticated yet, on this node (an
 * in-memory count: each node counts its own). Without a bound one address could hold
 * `maxConnections` sockets unauthenticated, each until its authentication timeout, and keep
 * real users out.
 */
export class PendingPerAddress {
  /** Not a cache: an address is here only while it holds an open socket (at most `maxConnections`), and goes with its last one. */
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Pending sockets of every address. */
  get size(): number {
    let total = 0;
    for (const held of this.counts.values()) total += held;
    return total;
  }

  /** A slot for one more pending socket of `ip`, or undefined when the address is at its limit. */
  claim(ip: string | null): PendingSlot | undefined {
    // No address: the socket is gone already, and the upgrade fails on its own.
    if (ip === null) return UNCOUNTED;
    const address = addressKey(ip);
    const held = this.counts.get(address) ?? 0;
    if (held >= this.limit) return undefined;
    this.counts.set(address, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.drop(address);
      },
    };
  }

  private drop(address: string): void {
    const held = this.counts.get(address) ?? 0;
    if (held <= 1) this.counts.delete(address);
    else this.counts.set(address, held - 1);
  }
}

/**
 * A dual-stack socket reports an IPv4 client as IPv4-mapped IPv6 (`::ffff:1.2.3.4`), and a
 * proxy may write either form: both are the IPv4 address. IPv6 is case-insensitive.
 */
function addressKey(ip: string): string {
  const address = ip.toLowerCase();
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
