import type { Writable } from 'node:stream';

/** How much output may wait for a reader before further lines are dropped. */
export const MAX_PENDING_BYTES = 4 * 1024 * 1024;

/**
 * Standard output for a server: writing never blocks the event loop or the exit, whatever the
 * reader does. A pipe nobody reads (`tessera start | cat` stopped, a full pipe) fills up: lines
 * then wait in the stream's queue, up to MAX_PENDING_BYTES, and later ones are dropped (and
 * counted, and said once the reader catches up). A reader that goes away (`| head -1`, a closed
 * pipe: EPIPE) ends the output for good; the server keeps serving.
 *
 * Node writes to a pipe through libuv without blocking (the fd is made non-blocking and
 * unwritten bytes queue), unlike pino's default destination, whose synchronous writes and
 * flush-on-exit loop on a full or broken pipe and so hang the process, even on SIGTERM.
 */
export class NonBlockingOutput {
  private closed = false;
  private dropped = 0;

  constructor(
    private readonly stream: Writable,
    private readonly maxPendingBytes = MAX_PENDING_BYTES,
  ) {
    stream.on('error', () => {
      this.closed = true;
    });
    stream.on('drain', () => this.reportDropped());
  }

  write(text: string): void {
    if (this.closed || this.stream.destroyed) return;
    if (this.stream.writableLength > this.maxPendingBytes) {
      this.dropped += 1;
      return;
    }
    this.stream.write(text);
  }

  /** Calls back once what was written has left the process, or the output is gone. */
  flush(callback: () => void): void {
    if (this.closed || this.stream.destroyed || this.stream.writableLength === 0) {
      callback();
      return;
    }
    const done = () => {
      this.stream.off('drain', done);
      this.stream.off('error', done);
      callback();
    };
    this.stream.once('drain', done);
    this.stream.once('error', done);
  }

  private reportDropped(): void {
    if (this.dropped === 0 || this.closed) return;
    const line = {
      level: 40,
      time: Date.now(),
      service: 'tessera',
      droppedLines: this.dropped,
      msg: 'log lines were dropped: standard output was not read',
    };
    this.dropped = 0;
    this.stream.write(`${JSON.stringify(line)}\n`);
  }
}

let processStdout: NonBlockingOutput | undefined;

/** This process's standard output, wrapped once (process.stdout is one stream: one set of listeners, one count of dropped lines). */
export function standardOutput(): NonBlockingOutput {
  return (processStdout ??= new NonBlockingOutput(process.stdout));
}
