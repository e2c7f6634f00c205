import { describe, expect, it } from 'vitest';
import { SseParser } from '../src/sse.js';

// issue 15: the verifier reads Tessera's event stream with a small SSE parser of its own.
describe("the verifier's SSE parser", () => {
  it('reads messages with id, event and data, skipping comments', () => {
    const parser = new SseParser();
    const messages = parser.push(
      ': keep-alive\n\nid: 0\nevent: ready\ndata: {"after":0}\n\nid: 1\nevent: session.ended\ndata: {"a":1}\n\n',
    );
    expect(messages).toEqual([
      { id: '0', event: 'ready', data: '{"after":0}' },
      { id: '1', event: 'session.ended', data: '{"a":1}' },
    ]);
  });

  it('joins data lines, defaults the event to message, and keeps the last id', () => {
    const parser = new SseParser();
    expect(parser.push('data: one\ndata:two\n\ndata\n\n')).toEqual([
      { id: undefined, event: 'message', data: 'one\ntwo' },
      { id: undefined, event: 'message', data: '' },
    ]);
    expect(parser.push('id: 7\nevent: x\n\ndata: y\n\n')).toEqual([{ id: '7', event: 'message', data: 'y' }]);
  });

  it('takes text in any chunks, with LF, CRLF or CR line ends, a CRLF split between two chunks', () => {
    const text = 'id: 1\r\nevent: a\r\ndata: {"x":1}\r\n\r\nid: 2\revent: b\rdata: 2\r\rid: 3\nevent: c\ndata: 3\n\n';
    const whole = new SseParser().push(text);
    expect(whole.map((message) => message.id)).toEqual(['1', '2', '3']);
    for (let size = 1; size <= 7; size += 1) {
      const parser = new SseParser();
      const messages = [];
      for (let index = 0; index < text.length; index += size)
        messages.push(...parser.push(text.slice(index, index + size)));
      expect(messages, `chunks of ${size}`).toEqual(whole);
    }
  });

  it('refuses an endless line instead of buffering it', () => {
    const parser = new SseParser();
    expect(() => parser.push(`data: ${'x'.repeat(1 << 20)}`)).toThrow('longer than 1 MiB');
  });
});
