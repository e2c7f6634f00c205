import { describe, expect, it } from 'vitest';
import { ChatError, Rooms } from '../src/rooms.js';

const ada = { userId: 'u1', name: 'Ada' };
const grace = { userId: 'u2', name: 'Grace' };
const refusal = (code: string): unknown => expect.objectContaining({ name: 'ChatError', code });

describe('the chat rooms', () => {
  it('keeps the last messages of a room, bounded, and sends them to whoever joins', () => {
    const rooms = new Rooms({ historySize: 2, maxMessageLength: 10, maxRooms: 5 }, ['general'], () => 0);
    rooms.join('general', 'c1', ada);
    for (const text of ['one', ' two ', 'three']) rooms.post('general', 'c1', ada, text);
    const { messages } = rooms.join('general', 'c2', grace);
    expect(messages.map((message) => message.text)).toEqual(['two', 'three']);
    expect(messages[0]).toMatchObject({ room: 'general', from: ada, at: '1970-01-01T00:00:00.000Z' });
  });

  it('refuses empty and too long messages, posts outside the room, and bad room names', () => {
    const rooms = new Rooms({ historySize: 2, maxMessageLength: 10, maxRooms: 2 }, ['general']);
    rooms.join('general', 'c1', ada);
    expect(() => rooms.post('general', 'c1', ada, '   ')).toThrow(refusal('invalid_message'));
    expect(() => rooms.post('general', 'c1', ada, 'x'.repeat(11))).toThrow(refusal('invalid_message'));
    expect(() => rooms.post('general', 'c1', ada, 42)).toThrow(refusal('invalid_message'));
    expect(() => rooms.post('general', 'c2', grace, 'hi')).toThrow(refusal('unknown_room'));
    expect(() => rooms.join('nowhere', 'c1', ada)).toThrow(refusal('unknown_room'));
    expect(() => rooms.create('Not A Room')).toThrow(ChatError);
    expect(rooms.create('project')).toBe(true);
    expect(rooms.create('project')).toBe(false);
    expect(() => rooms.create('third')).toThrow(refusal('too_many_rooms'));
  });

  it('lists who is online once per user, and forgets a connection that leaves', () => {
    const rooms = new Rooms(undefined, ['general', 'help']);
    rooms.join('general', 'c1', ada);
    rooms.join('general', 'c2', ada);
    rooms.join('help', 'c2', ada);
    rooms.join('general', 'c3', grace);
    expect(rooms.online('general')).toEqual([ada, grace]);
    expect(rooms.leaveAll('c2')).toEqual(['general', 'help']);
    expect(rooms.online('general')).toEqual([ada, grace]);
    expect(rooms.online('help')).toEqual([]);
    expect(rooms.leave('general', 'c1')).toBe(true);
    expect(rooms.online('general')).toEqual([grace]);
  });
});
