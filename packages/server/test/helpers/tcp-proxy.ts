import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';

/**
 * A TCP relay on 127.0.0.1 between a client and the upstreams it picks, round robin: a load
 * balancer in front of several nodes, or a network link to PostgreSQL that a test can cut
 * (`cut()` drops every connection and refuses new ones, as an unreachable host would look)
 * and mend (`restore()`), or stall (`stall()` forwards nothing and closes nothing, as a
 * network partition that silently drops packets looks) and let flow again (`resume()`).
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** The upstream port of each relayed client connection that is still open. */
  private readonly routes = new Map<Socket, number>();
  private next = 0;
  private open = true;
  /** While stalled, the bytes of each direction wait here, in order, to be passed on at `resume()`. */
  private held: (() => void)[] | undefined;
  private tripwire: { matches: (chunk: Buffer) => boolean; fired: () => void } | undefined;
  port = 0;

  /** `upstreams` is read at each new connection, so a test may remove a dead node. */
  constructor(private readonly upstreams: () => { host: string; port: number }[]) {}

  async start(): Promise<void> {
    const server = createServer((client) => this.relay(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  /** Upstream ports that hold relayed connections now, with how many each. */
  openConnectionsByUpstream(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const port of this.routes.values()) counts.set(port, (counts.get(port) ?? 0) + 1);
    return counts;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Drops every relayed connection and refuses new ones until `restore()`. */
  cut(): void {
    this.open = false;
    if (this.held !== undefined) this.held = [];
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.open = true;
  }

  /**
   * Stops forwarding bytes either way, on open connections and on new ones (still accepted),
   * without closing anything: only a deadline on the client's side notices. Their own closes
   * still go through, as a client's local close does.
   */
  stall(): void {
    this.held ??= [];
  }

  /** Forwards again, first what waited (as TCP retransmits once a partition heals). */
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const pass of held) pass();
  }

  /** Connections open through the relay now (either side still open). */
  get openConnections(): number {
    return this.routes.size;
  }

  /**
   * Cuts (as `cut()`) the moment a client sends bytes that `matches`, before they reach the
   * upstream: a link that fails at an exact point of a conversation, e.g. in the middle of a
   * database transaction. Resolves once it fired.
   */
  cutWhenClientSends(matches: (chunk: Buffer) => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.tripwire = { matches, fired: resolve };
    });
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Passes bytes on, or holds them while the link is stalled. */
  private gate(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        if (this.held === undefined) done(null, chunk);
        else this.held.push(() => done(null, chunk));
      },
    });
  }

  /** Passes the client's bytes on, unless they trip the armed wire. */
  private inspector(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        const tripwire = this.tripwire;
        if (tripwire === undefined || !tripwire.matches(chunk)) return done(null, chunk);
        this.tripwire = undefined;
        this.cut();
        tripwire.fired();
        done();
      },
    });
  }

  private relay(client: Socket): void {
    const targets = this.upstreams();
    if (!this.open || targets.length === 0) return void client.destroy();
    const target = targets[this.next++ % targets.length]!;
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    this.routes.set(client, target.port);
    client.on('close', () => {
      this.routes.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.pipe(this.inspector()).pipe(this.gate()).pipe(upstream);
    upstream.pipe(this.gate()).pipe(client);
  }
}

/** host and port of an http:// or postgres:// URL. */
export function endpointOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}
