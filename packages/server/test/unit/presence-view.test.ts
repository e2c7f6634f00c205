import type { PresenceJoinFrame, PresenceLeaveFrame } from '@tessera/protocol';
import { describe, expect, it } from 'vitest';
import { Presence, type PresenceMember, type SessionPart } from '../../src/realtime/presence.js';

// Issue 6: presence seen from any node is the whole cluster's.

const APP = 'app-1';
const HERE = 'node-a';
const THERE = 'node-b';

function member(userId: string, sessionId: string, kind: PresenceMember['kind'] = 'registered'): PresenceMember {
  return { appId: APP, userId, sessionId, kind, displayName: `name of ${userId}` };
}

function part(
  userId: string,
  sessionId: string,
  connections: number,
  kind: PresenceMember['kind'] = 'registered',
): SessionPart {
  return { ...member(userId, sessionId, kind), connections };
}

function view() {
  const offline: PresenceMember[] = [];
  const changes: SessionPart[] = [];
  const frames: (PresenceJoinFrame | PresenceLeaveFrame)[] = [];
  const presence = new Presence(HERE, {
    userOffline: (gone) => offline.push(gone),
    localChange: (change) => changes.push(change),
  });
  presence.subscribe(
    APP,
    { deliver: (json) => frames.push(JSON.parse(json) as PresenceJoinFrame | PresenceLeaveFrame) },
    undefined,
  );
  return { presence, offline, changes, frames };
}

describe('the cluster presence view', () => {
  it('tells the cluster each local change as the new count of this node, and counts every node in the entries', () => {
    const { presence, changes, frames } = view();
    presence.join(member('u1', 's1'));
    presence.join(member('u1', 's1'));
    expect(changes.map((change) => change.connections)).toEqual([1, 2]);
    expect(frames).toHaveLength(1);

    presence.set(THERE, part('u1', 's1', 3));
    presence.set(THERE, part('u1', 's2', 1));
    expect(frames.map((frame) => frame.type)).toEqual(['presence.join', 'presence.join']);
    expect(frames[1]).toEqual({
      type: 'presence.join',
      sessionId: 's2',
      entry: {
        userId: 'u1',
        kind: 'registered',
        displayName: 'name of u1',
        connections: 6,
        sessions: [
          { sessionId: 's1', connections: 5 },
          { sessionId: 's2', connections: 1 },
        ],
      },
    });
    // The per-user limit counts this node's connections only.
    expect(presence.connectionsOf(APP, 'u1')).toBe(2);
    expect(presence.snapshot(APP, undefined, 10).users[0]).toMatchObject({ connections: 6 });
  });

  it('sends a join when a session appears anywhere and a leave when it is gone everywhere', () => {
    const { presence, frames } = view();
    presence.set(THERE, part('u1', 's1', 1));
    presence.join(member('u1', 's1'));
    presence.leave(member('u1', 's1'));
    expect(frames.map((frame) => frame.type)).toEqual(['presence.join']);
    presence.set(THERE, part('u1', 's1', 0));
    expect(frames[1]).toEqual({ type: 'presence.leave', userId: 'u1', sessionId: 's1', entry: null });
    expect(presence.snapshot(APP, undefined, 10).users).toEqual([]);
  });

  it('applies the same set twice as once, and ignores a removal of what it does not hold', () => {
    const { presence, frames } = view();
    presence.set(THERE, part('u1', 's1', 2));
    presence.set(THERE, part('u1', 's1', 2));
    presence.set(THERE, part('u2', 's9', 0));
    expect(frames).toHaveLength(1);
    expect(presence.snapshot(APP, undefined, 10).users).toEqual([
      expect.objectContaining({ userId: 'u1', connections: 2 }),
    ]);
    presence.set(THERE, part('u1', 's1', 0));
    presence.set(THERE, part('u1', 's1', 0));
    expect(frames.map((frame) => frame.type)).toEqual(['presence.join', 'presence.leave']);
  });

  it('reports a user offline only for a local leave that leaves no connection in the cluster', () => {
    const { presence, offline } = view();
    presence.join(member('u1', 's1', 'anonymous'));
    presence.set(THERE, part('u1', 's1', 1, 'anonymous'));
    presence.leave(member('u1', 's1', 'anonymous'));
    expect(offline).toEqual([]);
    // The last connection closing elsewhere is that node's to act on.
    presence.set(THERE, part('u1', 's1', 0, 'anonymous'));
    expect(offline).toEqual([]);

    presence.set(THERE, part('u2', 's2', 1));
    presence.join(member('u2', 's2'));
    presence.set(THERE, part('u2', 's2', 0));
    presence.leave(member('u2', 's2'));
    expect(offline).toEqual([member('u2', 's2')]);
    // A leave of a connection it never counted changes nothing.
    presence.leave(member('u2', 's2'));
    expect(offline).toHaveLength(1);
  });

  it('drops a node: the sessions only it held leave, the others keep their other parts', () => {
    const { presence, frames } = view();
    presence.join(member('u1', 's1'));
    presence.set(THERE, part('u1', 's1', 1));
    presence.set(THERE, part('u1', 's2', 1));
    presence.set(THERE, part('u2', 's3', 2));
    frames.length = 0;
    presence.dropNode(THERE);
    expect(frames).toEqual([
      {
        type: 'presence.leave',
        userId: 'u1',
        sessionId: 's2',
        entry: {
          userId: 'u1',
          kind: 'registered',
          displayName: 'name of u1',
          connections: 1,
          sessions: [{ sessionId: 's1', connections: 1 }],
        },
      },
      { type: 'presence.leave', userId: 'u2', sessionId: 's3', entry: null },
    ]);
    expect([...presence.partsOf(THERE)]).toEqual([]);
    expect([...presence.partsOf(HERE)]).toEqual([part('u1', 's1', 1)]);
  });

  it('drops only the parts of a node that a replacement does not keep', () => {
    const { presence } = view();
    presence.set(THERE, part('u1', 's1', 1));
    presence.set(THERE, part('u2', 's2', 1));
    presence.dropNode(THERE, (_appId, userId) => userId === 'u2');
    expect([...presence.partsOf(THERE)]).toEqual([part('u2', 's2', 1)]);
  });

  it('bounds a snapshot and keeps apps apart', () => {
    const { presence } = view();
    for (let index = 0; index < 5; index += 1) presence.set(THERE, part(`u${index}`, `s${index}`, 1));
    presence.set(THERE, { ...part('other', 's', 1), appId: 'app-2' });
    expect(presence.snapshot(APP, undefined, 3)).toMatchObject({ truncated: true, users: { length: 3 } });
    expect(presence.snapshot(APP, undefined, 10).users.map((entry) => entry.userId)).not.toContain('other');
  });
});
