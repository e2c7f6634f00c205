/**
 * Mutual exclusion for token rotation. A reconnect token is single use and the server takes a
 * second use as theft, so two tabs (or two clients sharing a storage) must never spend the same
 * one: whoever rotates tokens holds the lock, and reads the storage again once it has it.
 */
export interface Lock {
  /** Runs `task` while holding the lock `name`; others wait. */
  run<T>(name: string, task: () => Promise<T>): Promise<T>;
}

/** One queue per lock name, for the clients of this JavaScript realm (one tab, one process). */
const realmQueues = new Map<string, Promise<unknown>>();

function inRealm<T>(name: string, task: () => Promise<T>): Promise<T> {
  const previous = realmQueues.get(name) ?? Promise.resolve();
  const result = previous.then(task, task);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  realmQueues.set(name, tail);
  void tail.then(() => {
    if (realmQueues.get(name) === tail) realmQueues.delete(name);
  });
  return result;
}

/**
 * A lock for the clients of one JavaScript realm only (one tab, one Node.js process). The
 * default in Node.js.
 *
 * @example
 * ```ts
 * const client = createClient({ url, app: 'acme/chat', key, lock: realmLock() });
 * ```
 */
export function realmLock(): Lock {
  return { run: inRealm };
}

/**
 * A lock across every tab and worker of the origin with the Web Locks API
 * (`navigator.locks`). The default in browsers that have it; returns undefined elsewhere.
 *
 * @example
 * ```ts
 * const lock = webLocksLock() ?? broadcastChannelLock() ?? realmLock();
 * ```
 */
export function webLocksLock(): Lock | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (locks === undefined) return undefined;
  return { run: (name, task) => inRealm(name, async () => await locks.request(name, { mode: 'exclusive' }, task)) };
}

/** `h`: the sender holds the lock (else it is asking, or waiting its turn). */
type LockMessage = { t: 'req' | 'held' | 'rel'; id: string; at: number; h?: boolean };

export interface BroadcastChannelLockOptions {
  /** How long a request waits for an objection before it takes the lock. */
  settleMs?: number;
  /** A holder silent for this long is taken for gone (a closed tab) and the lock is asked for again. */
  staleMs?: number;
}

/**
 * A lock across tabs for browsers without Web Locks, over a `BroadcastChannel`: a context asks
 * for the lock, and takes it if no holder and no earlier asker objects within `settleMs`. Ties
 * go to the earlier request (then the smaller random id), which every context judges the same
 * way. Returns undefined where BroadcastChannel is missing.
 *
 * @example
 * ```ts
 * const client = createClient({ url, app: 'acme/chat', key, lock: broadcastChannelLock() });
 * ```
 */
export function broadcastChannelLock(options: BroadcastChannelLockOptions = {}): Lock | undefined {
  if (typeof BroadcastChannel === 'undefined') return undefined;
  const settleMs = options.settleMs ?? 50;
  const staleMs = options.staleMs ?? 10_000;
  return { run: (name, task) => inRealm(name, () => acquireOverChannel(name, settleMs, staleMs, task)) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function acquireOverChannel<T>(
  name: string,
  settleMs: number,
  staleMs: number,
  task: () => Promise<T>,
): Promise<T> {
  const channel = new BroadcastChannel(`tessera-lock:${name}`);
  const mine: LockMessage = { t: 'req', id: Math.random().toString(36).slice(2), at: Date.now() };
  const ahead = (other: LockMessage): boolean => other.at < mine.at || (other.at === mine.at && other.id < mine.id);
  let holding = false;
  let blocked = false;
  let releases = 0;
  let released: (() => void) | undefined;
  channel.onmessage = ({ data }: MessageEvent<LockMessage>) => {
    if (data.t === 'rel') {
      releases += 1;
      return released?.();
    }
    // While holding we object to every asker; while asking, to the askers behind us. A holder,
    // or an asker ahead of us, blocks us.
    if (holding || !(data.h === true || ahead(data))) {
      if (data.t === 'req')
        channel.postMessage({ t: 'held', id: mine.id, at: mine.at, h: holding } satisfies LockMessage);
    } else {
      blocked = true;
    }
  };
  try {
    for (;;) {
      blocked = false;
      const seen = releases;
      channel.postMessage(mine);
      await sleep(settleMs);
      if (!blocked) break;
      // A release came while we asked: ask again at once.
      if (releases !== seen) continue;
      // Someone is ahead: wait for a release (or presume a silent holder gone), then ask again.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, staleMs);
        released = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      released = undefined;
    }
    holding = true;
    return await task();
  } finally {
    holding = false;
    channel.postMessage({ t: 'rel', id: mine.id, at: mine.at } satisfies LockMessage);
    channel.close();
  }
}

/** The best lock the environment offers: Web Locks, else BroadcastChannel in a browser, else this realm only. */
export function defaultLock(): Lock {
  const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined';
  return webLocksLock() ?? (inBrowser ? broadcastChannelLock() : undefined) ?? realmLock();
}
