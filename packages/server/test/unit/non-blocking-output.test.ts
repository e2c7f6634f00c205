import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NonBlockingOutput } from '../../src/lib/non-blocking-output.js';

/** A reader that takes nothing until `resume` is called: a pipe nobody reads. */
function stalledReader() {
  const received: string[] = [];
  const pending: (() => void)[] = [];
  let reading = false;
  const stream = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk.toString('utf8'));
      if (reading) callback();
      else pending.push(callback);
    },
  });
  const resume = () => {
    reading = true;
    for (const callback of pending.splice(0)) callback();
  };
  return { stream, received, resume };
}

// issue 12: a stdout nobody read blocked the server; the output must queue a bounded amount and drop the rest.
describe('NonBlockingOutput', () => {
  it('queues up to its bound while nobody reads, drops the rest, and says how many once the reader catches up', async () => {
    const reader = stalledReader();
    const output = new NonBlockingOutput(reader.stream, 100);
    for (let line = 0; line < 50; line++) output.write(`line ${String(line).padStart(2, '0')}\n`);
    expect(reader.stream.writableLength).toBeLessThanOrEqual(100 + 8);
    const flushed = new Promise<void>((resolve) => output.flush(resolve));
    reader.resume();
    await flushed;
    await new Promise((resolve) => setImmediate(resolve));
    const text = reader.received.join('');
    expect(text.startsWith('line 00\nline 01\n')).toBe(true);
    expect(text).not.toContain('line 49');
    const kept = text.split('\n').filter((line) => line.startsWith('line ')).length;
    const notice = JSON.parse(text.split('\n').find((line) => line.startsWith('{'))!) as {
      droppedLines: number;
      msg: string;
    };
    expect(notice).toMatchObject({
      droppedLines: 50 - kept,
      msg: 'log lines were dropped: standard output was not read',
    });
  });

  it('stops writing once the output fails (EPIPE), and flushes at once', async () => {
    const written: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk.toString('utf8'));
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const output = new NonBlockingOutput(stream);
    output.write('first\n');
    await new Promise((resolve) => stream.once('close', resolve));
    output.write('second\n');
    await new Promise<void>((resolve) => output.flush(resolve));
    expect(written).toEqual(['first\n']);
  });
});
