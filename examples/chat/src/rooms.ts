/**
 * The chat's state, in memory: rooms, the last messages of each, and who is in each room.
 * Nothing here knows about sockets or tokens; the chat server feeds it.
 */

/** Someone in the chat, as others see them. */
export interface Member {
  readonly userId: string;
  readonly name: string;
}

export interface ChatMessage {
  readonly id: number;
  readonly room: string;
  readonly from: Member;
  readonly text: string;
  /** ISO 8601. */
  readonly at: string;
}

export interface RoomLimits {
  /** Messages kept per room (the last ones, sent to whoever joins). */
  readonly historySize: number;
  /** The longest message, in characters. */
  readonly maxMessageLength: number;
  /** The most rooms (fixed and created). */
  readonly maxRooms: number;
}

export const DEFAULT_ROOMS = ['general', 'random', 'help'] as const;
export const DEFAULT_LIMITS: RoomLimits = { historySize: 50, maxMessageLength: 500, maxRooms: 50 };

/** A refused chat operation, with a stable code the page shows. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  constructor(
    readonly code: 'invalid_room' | 'unknown_room' | 'too_many_rooms' | 'invalid_message' | 'member_role_required',
    message: string,
  ) {
    super(message);
  }
}

const ROOM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

interface Room {
  readonly messages: ChatMessage[];
  /** connection id → member; a user with two tabs is online once. */
  readonly connections: Map<string, Member>;
}

export class Rooms {
  private readonly rooms = new Map<string, Room>();
  private nextId = 1;

  constructor(
    private readonly limits: RoomLimits = DEFAULT_LIMITS,
    names: readonly string[] = DEFAULT_ROOMS,
    private readonly now: () => number = Date.now,
  ) {
    for (const name of names) this.rooms.set(name, { messages: [], connections: new Map() });
  }

  names(): string[] {
    return [...this.rooms.keys()];
  }

  /** Creates a room (lowercase letters, digits and dashes); an existing name is fine and changes nothing. Returns whether it is new. */
  create(name: unknown): boolean {
    const room = roomName(name);
    if (this.rooms.has(room)) return false;
    if (this.rooms.size >= this.limits.maxRooms)
      throw new ChatError('too_many_rooms', `There are already ${this.limits.maxRooms} rooms.`);
    this.rooms.set(room, { messages: [], connections: new Map() });
    return true;
  }

  /** Adds a connection to a room; returns the room's last messages. */
  join(name: unknown, connectionId: string, member: Member): { room: string; messages: ChatMessage[] } {
    const room = this.room(name);
    room.value.connections.set(connectionId, member);
    return { room: room.name, messages: [...room.value.messages] };
  }

  /** Removes a connection from a room; returns whether it was there. */
  leave(name: string, connectionId: string): boolean {
    return this.rooms.get(name)?.connections.delete(connectionId) ?? false;
  }

  /** The rooms a connection was in, which it leaves. */
  leaveAll(connectionId: string): string[] {
    const left: string[] = [];
    for (const [name, room] of this.rooms) if (room.connections.delete(connectionId)) left.push(name);
    return left;
  }

  /** Who is in a room: each user once, by name. */
  online(name: string): Member[] {
    const byUser = new Map<string, Member>();
    for (const member of this.rooms.get(name)?.connections.values() ?? []) byUser.set(member.userId, member);
    return [...byUser.values()].sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  }

  isIn(name: string, connectionId: string): boolean {
    return this.rooms.get(name)?.connections.has(connectionId) ?? false;
  }

  /** Keeps a message (trimmed, bounded) in a room the connection is in; returns it as sent to the room. */
  post(name: unknown, connectionId: string, from: Member, text: unknown): ChatMessage {
    const room = this.room(name);
    if (!room.value.connections.has(connectionId))
      throw new ChatError('unknown_room', `Join ${JSON.stringify(room.name)} before posting in it.`);
    const body = typeof text === 'string' ? text.trim() : '';
    if (body.length === 0) throw new ChatError('invalid_message', 'A message needs some text.');
    if (body.length > this.limits.maxMessageLength)
      throw new ChatError('invalid_message', `A message has at most ${this.limits.maxMessageLength} characters.`);
    const message: ChatMessage = {
      id: this.nextId++,
      room: room.name,
      from,
      text: body,
      at: new Date(this.now()).toISOString(),
    };
    room.value.messages.push(message);
    if (room.value.messages.length > this.limits.historySize) room.value.messages.shift();
    return message;
  }

  private room(name: unknown): { name: string; value: Room } {
    const room = roomName(name);
    const value = this.rooms.get(room);
    if (value === undefined) throw new ChatError('unknown_room', `There is no room ${JSON.stringify(room)}.`);
    return { name: room, value };
  }
}

function roomName(name: unknown): string {
  if (typeof name !== 'string' || !ROOM_NAME.test(name))
    throw new ChatError('invalid_room', 'A room name is 1 to 32 lowercase letters, digits and dashes.');
  return name;
}
