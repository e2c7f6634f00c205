/**
 * The open connections of this node, and which of them each session holds, so that a
 * revocation finds its sockets without a scan.
 */
export class ConnectionRegistry<C> {
  private readonly open = new Set<C>();
  /** Arrays, not Sets: a session rarely holds more than a few connections, and memory counts. Bounded by the open connections. */
  private readonly bySession = new Map<string, C[]>();

  get size(): number {
    return this.open.size;
  }

  add(connection: C): void {
    this.open.add(connection);
  }

  delete(connection: C): void {
    this.open.delete(connection);
  }

  all(): C[] {
    return [...this.open];
  }

  bind(connection: C, sessionId: string): void {
    const held = this.bySession.get(sessionId);
    if (held === undefined) this.bySession.set(sessionId, [connection]);
    else held.push(connection);
  }

  unbind(connection: C, sessionId: string): void {
    const held = this.bySession.get(sessionId);
    if (held === undefined) return;
    const index = held.indexOf(connection);
    if (index >= 0) held.splice(index, 1);
    if (held.length === 0) this.bySession.delete(sessionId);
  }

  /** A copy: closing a connection unbinds it while the caller iterates. */
  inSession(sessionId: string): C[] {
    return [...(this.bySession.get(sessionId) ?? [])];
  }
}
