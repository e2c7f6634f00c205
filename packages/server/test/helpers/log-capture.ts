import { Writable } from 'node:stream';

/** One JSON log line as pino writes it. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A pino destination that keeps every line, for tests that check what an operator reads. */
export class LogCapture extends Writable {
  readonly lines: LogLine[] = [];
  /** Every byte written, to check that something (a token) never appears anywhere. */
  text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const text = chunk.toString('utf8');
    this.text += text;
    for (const line of text.split('\n')) if (line !== '') this.lines.push(JSON.parse(line) as LogLine);
    done();
  }

  /** Lines whose message starts with `prefix`, oldest first. */
  withMessage(prefix: string): LogLine[] {
    return this.lines.filter((line) => line.msg.startsWith(prefix));
  }

  last(prefix: string): LogLine | undefined {
    return this.withMessage(prefix).at(-1);
  }
}
