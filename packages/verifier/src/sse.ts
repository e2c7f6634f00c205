/** One message of a `text/event-stream`: its `id:`, `event:` (default `message`) and joined `data:` lines. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** Tessera's events are a few hundred bytes; a longer line is not its stream. */
const MAX_LINE_LENGTH = 1 << 20;

/**
 * The parts of the Server-Sent Events format (HTML's "event stream interpretation") that
 * Tessera's stream uses: lines end with LF, CRLF or CR; `:` starts a comment (keep-alives);
 * `field: value` with one optional space; a blank line ends a message. Text arrives in
 * arbitrary chunks: an unfinished line waits for the next.
 */
export class SseParser {
  private buffer = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];
  /** The last chunk ended with a CR: an LF that starts the next one belongs to it. */
  private afterCr = false;

  /** The messages that `chunk` completes. */
  push(chunk: string): SseMessage[] {
    if (chunk === '') return [];
    const text = this.afterCr && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    this.afterCr = chunk.endsWith('\r');
    this.buffer += text;
    const messages: SseMessage[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop()!; // an unfinished line, or '' after a line end
    if (this.buffer.length > MAX_LINE_LENGTH) throw new Error('The event stream sent a line longer than 1 MiB.');
    for (const line of lines) {
      if (line === '') {
        if (this.data.length > 0)
          messages.push({ id: this.id, event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\0')) this.id = value;
    }
    return messages;
  }
}
