// The baseline of the realtime benchmark (see realtime.ts): a bare `ws` server in a process of
// its own that answers each connection with one small frame, as Tessera answers
// `authenticated`, and keeps it open. It does nothing else.
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import { WebSocketServer } from 'ws';

const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('error', () => undefined);
  ws.send('{"type":"authenticated"}');
});
http.listen(0, '127.0.0.1', () => process.send({ type: 'ready', url: `http://127.0.0.1:${http.address().port}` }));

process.on('message', (message) => {
  if (message.type !== 'memory' && message.type !== 'heapSnapshot') return;
  globalThis.gc();
  globalThis.gc();
  if (message.type === 'heapSnapshot')
    return process.send({ type: 'heapSnapshot', path: writeHeapSnapshot(message.path) });
  const { rss, heapUsed, external } = process.memoryUsage();
  process.send({ type: 'memory', memory: { rss, heapUsed, external }, connections: wss.clients.size });
});
process.once('SIGTERM', () => process.exit(0));
