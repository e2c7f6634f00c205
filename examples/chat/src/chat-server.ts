/**
 * The chat server: Node's HTTP server serving the page, and Socket.io on it. Every socket belongs
 * to a Tessera session (`@tessera/verifier/socket.io`: a valid access token to connect, and a
 * `tessera:session_ended` then a disconnect when the session ends); posting needs the role
 * `member` in the access token.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import type { Verifier } from '@tessera/verifier';
import { tesseraSocketIo, type TesseraSocketData } from '@tessera/verifier/socket.io';
import { Server, type DefaultEventsMap, type Socket } from 'socket.io';
import { ChatError, DEFAULT_LIMITS, Rooms, type Member, type RoomLimits } from './rooms.js';

/** The role a user needs to post; the app gives it to registered users and guests (`newUserRoles`). */
export const MEMBER_ROLE = 'member';

/** What the page needs to log in with Tessera, served as /config.json (no secret in it). */
export interface PageConfig {
  tesseraUrl: string;
  app: string;
  publishableKey: string;
}

export interface ChatServerOptions {
  verifier: Verifier;
  /** The display name of a user (from its Tessera profile). */
  nameOf: (userId: string) => Promise<string>;
  page: PageConfig;
  /** The folder of index.html, chat.js and chat.css. */
  publicDir: string;
  /** `@tessera/client`'s browser bundle (its `@tessera/client/browser` export), served as /vendor/tessera-client.js. */
  clientBundle: string;
  limits?: RoomLimits;
}

export interface ChatServer {
  readonly http: HttpServer;
  readonly io: ChatIo;
  /** Listens on `host:port` (0: a free port); resolves to the page's URL. */
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

/** What a socket carries: its principal (set by the Tessera middleware), then who it is in the chat. */
interface ChatSocketData extends TesseraSocketData {
  member: Member;
  canPost: boolean;
}

type ChatIo = Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, ChatSocketData>;
type ChatSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, ChatSocketData>;

type Ack = (answer: { ok: true; [key: string]: unknown } | { ok: false; code: string; message: string }) => void;

export function createChatServer(options: ChatServerOptions): ChatServer {
  const http = createServer((request, response) => {
    serveStatic(request, response, options).catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  const io: ChatIo = new Server(http, { serveClient: true, maxHttpBufferSize: 16 * 1024 });
  const rooms = new Rooms(options.limits ?? DEFAULT_LIMITS);
  const tessera = tesseraSocketIo(options.verifier);
  io.use(tessera);
  io.use((socket, next) => {
    const { principal } = socket.data;
    options.nameOf(principal.userId).then(
      (name) => {
        socket.data.member = { userId: principal.userId, name };
        socket.data.canPost = principal.roles.includes(MEMBER_ROLE);
        next();
      },
      () => next(Object.assign(new Error('The profile could not be read.'), { data: { code: 'unavailable' } })),
    );
  });
  io.on('connection', (socket) => onConnection(io, rooms, socket));

  return {
    http,
    io,
    async listen(host, port) {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      const address = http.address() as AddressInfo;
      return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    },
    async close() {
      tessera.close();
      await io.close();
      if (http.listening) await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function onConnection(io: ChatIo, rooms: Rooms, socket: ChatSocket): void {
  const { member, canPost } = socket.data;
  const presence = (room: string) => io.to(room).emit('presence', { room, online: rooms.online(room) });
  socket.emit('welcome', {
    user: member,
    canPost,
    ...(canPost ? {} : { why: `Posting needs the role "${MEMBER_ROLE}": sign up or come in as a guest to post.` }),
    rooms: rooms.names(),
  });

  /** Refuses a member's action (posting, creating a room) to a reader, with an error event too. */
  const mustBeMember = () => {
    if (canPost) return;
    const error = new ChatError(
      'member_role_required',
      `Posting and creating rooms need the role "${MEMBER_ROLE}"; anonymous visitors may read but not post.`,
    );
    socket.emit('chat-error', { code: error.code, message: error.message });
    throw error;
  };

  handle(socket, 'join', (room) => {
    const joined = rooms.join(room, socket.id, member);
    void socket.join(joined.room);
    presence(joined.room);
    return { room: joined.room, messages: joined.messages, online: rooms.online(joined.room) };
  });
  handle(socket, 'leave', (room) => {
    if (typeof room === 'string' && rooms.leave(room, socket.id)) {
      void socket.leave(room);
      presence(room);
    }
    return {};
  });
  handle(socket, 'create-room', (name) => {
    mustBeMember();
    if (rooms.create(name)) io.emit('rooms', rooms.names());
    return { rooms: rooms.names() };
  });
  handle(socket, 'message', (payload) => {
    mustBeMember();
    const { room, text } = (payload ?? {}) as { room?: unknown; text?: unknown };
    const message = rooms.post(room, socket.id, member, text);
    io.to(message.room).emit('message', message);
    return { message };
  });
  socket.on('disconnect', () => {
    for (const room of rooms.leaveAll(socket.id)) presence(room);
  });
}

/** Runs a handler for an event with an acknowledgement: its answer, or what it threw as `{ ok: false, code, message }`. */
function handle(socket: ChatSocket, event: string, handler: (payload: unknown) => Record<string, unknown>): void {
  socket.on(event, (payload: unknown, ack?: unknown) => {
    const reply: Ack = typeof ack === 'function' ? (ack as Ack) : () => {};
    try {
      reply({ ok: true, ...handler(payload) });
    } catch (error) {
      // A bug must not take the server down with it: the client hears `internal_error`, the log the cause.
      if (!(error instanceof ChatError)) process.emitWarning(error instanceof Error ? error : String(error));
      const { code, message } =
        error instanceof ChatError ? error : { code: 'internal_error', message: 'The chat server failed.' };
      reply({ ok: false, code, message });
    }
  });
}

const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/chat.js': 'chat.js',
  '/chat.css': 'chat.css',
};
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

async function serveStatic(request: IncomingMessage, response: ServerResponse, options: ChatServerOptions) {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') return void response.writeHead(405).end();
  if (path === '/config.json') return send(response, 'application/json', JSON.stringify(options.page));
  const file =
    path === '/vendor/tessera-client.js'
      ? options.clientBundle
      : STATIC_FILES[path] === undefined
        ? undefined
        : join(options.publicDir, STATIC_FILES[path]);
  if (file === undefined) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  send(response, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file));
}

function send(response: ServerResponse, contentType: string, body: string | Buffer): void {
  response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
}
