import type { AppRecord } from '../store/repositories/index.js';

/**
 * A token bucket per connection: `rate` frames per second on average, `burst` at once. Time
 * comes from the injected clock, so tests decide when it refills.
 */
export class FrameRateLimiter {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Spends one token; false when the connection is over its rate. */
  take(now: number): boolean {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.rate);
      this.updatedAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Whether one more connection of a user that has `open` of them would pass the app's limit. */
export function exceedsUserConnections(app: AppRecord, open: number): boolean {
  return open >= app.settings.realtime.maxConnectionsPerUser;
}

/**
 * Whether a peer reads too slowly: the bytes waiting for it (ws' `bufferedAmount`, what the
 * kernel would not take yet) passed the bound. Such a connection is closed rather than
 * allowed to grow the server's memory without bound.
 */
export function isSlowConsumer(bufferedAmount: number, maxBufferedBytes: number): boolean {
  return bufferedAmount > maxBufferedBytes;
}

/** The most users one `presence.state` lists; a larger presence is answered `truncated`. */
export const MAX_PRESENCE_ENTRIES = 1000;
