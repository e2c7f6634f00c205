import { describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../../src/realtime/registry.js';

/** The registry holds any value; a named object stands for a connection. */
interface Socket {
  name: string;
}
const socket = (name: string): Socket => ({ name });
const names = (sockets: Socket[]) => sockets.map(({ name }) => name).sort();

describe('ConnectionRegistry (realtime/registry.ts)', () => {
  it('counts and lists the open connections', () => {
    const registry = new ConnectionRegistry<Socket>();
    const [a, b] = [socket('a'), socket('b')];
    registry.add(a);
    registry.add(b);
    registry.add(a);
    expect(registry.size).toBe(2);
    expect(names(registry.all())).toEqual(['a', 'b']);
    registry.delete(a);
    registry.delete(a);
    expect(registry.size).toBe(1);
    expect(names(registry.all())).toEqual(['b']);
  });

  it('finds the connections of a session, and only those', () => {
    const registry = new ConnectionRegistry<Socket>();
    const [a, b, c] = [socket('a'), socket('b'), socket('c')];
    for (const each of [a, b, c]) registry.add(each);
    registry.bind(a, 's1');
    registry.bind(b, 's1');
    registry.bind(c, 's2');
    expect(names(registry.inSession('s1'))).toEqual(['a', 'b']);
    expect(names(registry.inSession('s2'))).toEqual(['c']);
    expect(registry.inSession('s3')).toEqual([]);
  });

  it('forgets a session once its last connection is unbound, and ignores an unbind it never saw', () => {
    const registry = new ConnectionRegistry<Socket>();
    const [a, b] = [socket('a'), socket('b')];
    registry.bind(a, 's1');
    registry.bind(b, 's1');
    registry.unbind(a, 's1');
    expect(names(registry.inSession('s1'))).toEqual(['b']);
    registry.unbind(a, 's1');
    registry.unbind(a, 'never-bound');
    registry.unbind(b, 's1');
    expect(registry.inSession('s1')).toEqual([]);
    // Bound again after it was forgotten: a fresh list.
    registry.bind(a, 's1');
    expect(names(registry.inSession('s1'))).toEqual(['a']);
  });

  it("answers a copy, so closing (and so unbinding) while going through a session's connections misses none", () => {
    const registry = new ConnectionRegistry<Socket>();
    const sockets = ['a', 'b', 'c'].map(socket);
    for (const each of sockets) registry.bind(each, 's1');
    const closed: string[] = [];
    for (const each of registry.inSession('s1')) {
      registry.unbind(each, 's1');
      closed.push(each.name);
    }
    expect(closed).toEqual(['a', 'b', 'c']);
    expect(registry.inSession('s1')).toEqual([]);
  });

  it('keeps being open and being bound apart: a closing connection leaves each on its own', () => {
    const registry = new ConnectionRegistry<Socket>();
    const a = socket('a');
    registry.add(a);
    registry.bind(a, 's1');
    registry.delete(a);
    expect(registry.size).toBe(0);
    expect(names(registry.inSession('s1'))).toEqual(['a']);
    registry.unbind(a, 's1');
    expect(registry.inSession('s1')).toEqual([]);
  });

  it('answers all() as a copy too', () => {
    const registry = new ConnectionRegistry<Socket>();
    const a = socket('a');
    registry.add(a);
    const listed = registry.all();
    registry.delete(a);
    expect(names(listed)).toEqual(['a']);
    expect(registry.all()).toEqual([]);
  });
});
