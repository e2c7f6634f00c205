import { TesseraError } from '../../errors.js';

/**
 * Runs at most `concurrency` tasks at once and lets at most `maxQueue` wait. Past that it
 * refuses at once with `overloaded`, so a login storm gets fast 503s instead of a growing
 * backlog that would starve every other request of CPU and memory.
 */
export class BoundedWorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueue: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) {
        throw new TesseraError('overloaded', { message: 'Too many password checks are waiting; retry shortly.', retryAfterSeconds: 1 });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so `running` never drops and rises again.
      const next = this.waiting.shift();
      if (next === undefined) this.running -= 1;
      else next();
    }
  }

  stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }
}
