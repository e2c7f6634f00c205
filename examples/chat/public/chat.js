// The chat page: logs in with @tessera/client, talks to the chat server over Socket.io with the
// access token, and shows "you were logged out" when the server cuts the connection because the
// session ended. No framework, no build step.
import { createClient } from '/vendor/tessera-client.js';
import { io } from '/socket.io/socket.io.esm.min.js';

const config = await (await fetch('/config.json')).json();
// Each tab keeps its own session (sessionStorage): two tabs are two sessions of the same user,
// and "log out everywhere" in one visibly cuts the other through the chat server.
const client = createClient({
  url: config.tesseraUrl,
  app: config.app,
  key: config.publishableKey,
  storage: 'session',
});

const $ = (selector) => document.querySelector(selector);
/** What the page saw, for the browser test and for curious readers of the console. */
const state = { ready: false, user: null, canPost: false, room: 'general', events: [] };
window.chat = state;
let socket = null;

function record(type, detail = {}) {
  state.events.push({ type, at: Date.now(), ...detail });
}

function banner(text, ended = false) {
  const element = $('#banner');
  element.textContent = text;
  element.hidden = text === '';
  element.classList.toggle('ended', ended);
}

function show(view) {
  $('#login-view').hidden = view !== 'login';
  $('#chat-view').hidden = view !== 'chat';
  $('#logout').hidden = view !== 'chat';
  $('#logout-everywhere').hidden = view !== 'chat';
}

// --- Logging in -------------------------------------------------------------------------------

async function login(action) {
  try {
    await action();
    banner('');
    connectChat();
  } catch (error) {
    banner(`${error.message}${error.code ? ` (${error.code})` : ''}`);
  }
}

$('#password-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const username = String(form.get('username'));
  const password = String(form.get('password'));
  const fullName = String(form.get('fullName') ?? '').trim();
  void login(async () => {
    if (event.submitter?.value === 'signup')
      await client.signup({ username, password, ...(fullName === '' ? {} : { fullName }) });
    await client.connect(username, password);
  });
});

$('#guest-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void login(() => client.connectAsGuest(String(new FormData(event.target).get('fullName'))));
});

$('#anonymous-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = String(new FormData(event.target).get('displayName') ?? '').trim();
  void login(() => client.connectAnonymously(name === '' ? undefined : name));
});

// --- The chat connection -------------------------------------------------------------------------

function connectChat() {
  show('chat');
  // Called on every (re)connection: the client hands a fresh access token, refreshed if it expires soon.
  const auth = (callback) =>
    client.getAccessToken().then(
      (token) => callback({ token: token ?? '' }),
      () => callback({ token: '' }),
    );
  const s = io({ auth, transports: ['websocket'] });
  socket = s;

  s.on('connect', () => {
    record('connected');
    banner('');
  });
  s.on('welcome', ({ user, canPost, why, rooms }) => {
    state.user = user;
    state.canPost = canPost;
    $('#whoami').textContent = user.name;
    $('#message-form').hidden = !canPost;
    $('#create-room-form').hidden = !canPost;
    $('#read-only').hidden = canPost;
    $('#read-only').textContent = canPost ? '' : `You may read but not post. ${why}`;
    renderRooms(rooms);
    void joinRoom(state.room);
  });
  s.on('rooms', renderRooms);
  s.on('message', (message) => {
    if (message.room === state.room) appendMessage(message);
  });
  s.on('presence', ({ room, online }) => {
    if (room === state.room) renderOnline(online);
  });
  s.on('chat-error', ({ code, message }) => {
    record('chat-error', { code });
    banner(`${message} (${code})`);
  });
  // The server's word that this session ended (a logout elsewhere, an admin disabling the user); it disconnects next.
  s.on('tessera:session_ended', ({ code }) => loggedOut(code));
  s.on('connect_error', (error) => {
    const code = error.data?.code;
    record('connect_error', { code });
    if (code === 'token_expired') {
      // The token expired between the client's check and the server's: refresh, then try again.
      client.reAuthenticate({ force: true }).then(
        () => s.connect(),
        () => loggedOut('session_expired'),
      );
    } else if (code === 'session_revoked' || code === 'user_disabled' || code === 'invalid_token') {
      loggedOut(code);
    } else if (!s.active) {
      banner(`The chat refused the connection: ${error.message}`);
    }
  });
  s.on('disconnect', (reason) => {
    record('disconnected', { reason });
    if (reason === 'io server disconnect') banner('The chat server closed the connection.', true);
    else if (s.active) banner('Connection lost; reconnecting…');
  });
}

function loggedOut(code) {
  if (socket === null) return;
  record('session_ended', { code });
  socket.disconnect();
  socket = null;
  banner(
    code === 'user_disabled'
      ? 'You were logged out: your account was disabled.'
      : 'You were logged out: your session ended (logged out everywhere, or ended by the app).',
    true,
  );
  // The session is over on the server; forget it here too.
  client.logout().catch(() => {});
  resetChat();
  show('login');
}

function resetChat() {
  state.user = null;
  state.canPost = false;
  $('#whoami').textContent = '';
  $('#messages').replaceChildren();
  $('#online').replaceChildren();
}

async function joinRoom(room) {
  if (socket === null) return;
  if (room !== state.room) socket.emit('leave', state.room);
  const answer = await socket.emitWithAck('join', room);
  if (!answer.ok) return banner(answer.message);
  state.room = answer.room;
  $('#room-title').textContent = `# ${answer.room}`;
  $('#messages').replaceChildren();
  answer.messages.forEach(appendMessage);
  renderOnline(answer.online);
  for (const button of document.querySelectorAll('#rooms button'))
    button.setAttribute('aria-current', String(button.dataset.room === state.room));
  record('joined', { room: answer.room });
}

function renderRooms(rooms) {
  $('#rooms').replaceChildren(
    ...rooms.map((room) => {
      const button = document.createElement('button');
      button.textContent = `# ${room}`;
      button.dataset.room = room;
      button.setAttribute('aria-current', String(room === state.room));
      button.addEventListener('click', () => void joinRoom(room));
      const item = document.createElement('li');
      item.append(button);
      return item;
    }),
  );
}

function appendMessage(message) {
  const item = document.createElement('li');
  const from = document.createElement('span');
  from.className = 'from';
  from.textContent = message.from.name;
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.text;
  const time = document.createElement('time');
  time.dateTime = message.at;
  time.textContent = new Date(message.at).toLocaleTimeString();
  item.append(from, text, time);
  $('#messages').append(item);
  item.scrollIntoView({ block: 'end' });
}

function renderOnline(online) {
  $('#online').replaceChildren(
    ...online.map((member) => {
      const item = document.createElement('li');
      item.textContent = member.name;
      item.dataset.userId = member.userId;
      return item;
    }),
  );
}

$('#message-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  const answer = await socket?.emitWithAck('message', { room: state.room, text: input.value });
  if (answer?.ok) input.value = '';
  else if (answer) banner(`${answer.message} (${answer.code})`);
});

$('#create-room-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = event.target.elements.room;
  const answer = await socket?.emitWithAck('create-room', input.value);
  if (answer?.ok) {
    const room = input.value;
    input.value = '';
    await joinRoom(room);
  } else if (answer) banner(answer.message);
});

$('#logout').addEventListener('click', async () => {
  socket?.disconnect();
  socket = null;
  await client.logout().catch(() => {});
  resetChat();
  show('login');
});

$('#logout-everywhere').addEventListener('click', async () => {
  record('logout_everywhere');
  // Every session of the user ends on Tessera: the chat server hears it and cuts their sockets, in every tab and browser.
  await client.logoutEverywhere().catch((error) => banner(error.message));
  socket?.disconnect();
  socket = null;
  resetChat();
  show('login');
  banner('You logged out everywhere.');
});

// --- Start ---------------------------------------------------------------------------------------

if ((await client.getLoggedInUser()) !== null) {
  await client.reAuthenticate().then(connectChat, () => show('login'));
} else show('login');
state.ready = true;
