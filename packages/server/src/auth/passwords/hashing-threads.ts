import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The work a hashing thread does: argon2id hashes and verifications, and bcrypt verifications. */
export type HashingJob =
  | {
      op: 'argon2.hash';
      password: string;
      options: { algorithm: number; memoryCost: number; timeCost: number; parallelism: number };
    }
  | { op: 'argon2.verify'; hash: string; password: string }
  | { op: 'bcrypt.verify'; hash: string; password: string };

type Reply = { result: string | boolean } | { error: string };

const require = createRequire(import.meta.url);

/**
 * Runs in each thread. It lowers its own scheduling priority first (Linux applies setpriority to
 * one thread when given a thread id), so that when the CPU is contended — a login storm — the
 * event loop serving every other request wins, and hashing takes what is left. Where that is
 * not possible the thread runs at normal priority.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
try {
  const threadId = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(threadId, workerData.nice);
} catch {}
const argon2 = require(workerData.argon2);
const bcrypt = require(workerData.bcrypt);
parentPort.on('message', (job) => {
  try {
    const result =
      job.op === 'argon2.hash' ? argon2.hashSync(job.password, job.options)
      : job.op === 'argon2.verify' ? argon2.verifySync(job.hash, job.password)
      : bcrypt.verifySync(job.password, job.hash);
    parentPort.postMessage({ result });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});
`;

/** The hashing library refused the job (a stored hash it cannot read): the thread is fine. */
export class HashingJobError extends Error {}

interface Pending {
  job: HashingJob;
  resolve: (result: string | boolean) => void;
  reject: (error: Error) => void;
}

/**
 * Jobs a thread holds at once: the one it computes and the next, waiting in its inbox. A thread
 * that finishes picks up its next job by itself; without one it would wait for the event loop,
 * busy with other requests, to hand it one, and the core would idle meanwhile.
 */
const JOBS_PER_THREAD = 2;

/**
 * A fixed set of threads that do the password hashing, one job at a time each, at a lower
 * priority than the event loop. Jobs are taken in the order they come; the caller bounds how
 * many there are (see PasswordHasher).
 */
export class HashingThreads {
  private readonly waiting: Pending[] = [];
  /** The jobs sent to each thread, oldest (the one it computes) first. */
  private readonly sent = new Map<Worker, Pending[]>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly nice = 19,
  ) {}

  run(job: HashingJob): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new Error('the password hashing threads are closed'));
    if (this.sent.size === 0) for (let index = 0; index < this.size; index += 1) this.spawn();
    return new Promise((resolve, reject) => {
      this.waiting.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  /** Jobs being computed, and jobs waiting (in a thread's inbox or here). */
  stats(): { running: number; queued: number } {
    let running = 0;
    let sent = 0;
    for (const jobs of this.sent.values()) {
      if (jobs.length > 0) running += 1;
      sent += jobs.length;
    }
    return { running, queued: sent - running + this.waiting.length };
  }

  /** Stops the threads; jobs not finished yet fail. */
  async close(): Promise<void> {
    this.closed = true;
    const unfinished = [...this.waiting.splice(0), ...[...this.sent.values()].flat()];
    const workers = [...this.sent.keys()];
    this.sent.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const pending of unfinished) pending.reject(new Error('the password hashing threads are closed'));
  }

  /** Threads start on the first job, so a process that never hashes never pays for them. */
  private spawn(): void {
    const workerData = {
      nice: this.nice,
      argon2: require.resolve('@node-rs/argon2'),
      bcrypt: require.resolve('@node-rs/bcrypt'),
    };
    const worker = new Worker(THREAD_SOURCE, { eval: true, workerData, name: 'tessera-password-hashing' });
    worker.on('message', (reply: Reply) => this.settle(worker, reply));
    worker.on('error', (error) => this.replace(worker, error));
    worker.unref();
    this.sent.set(worker, []);
  }

  /** Hands waiting jobs to the threads with the fewest, up to JOBS_PER_THREAD each. */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      let target: [Worker, Pending[]] | undefined;
      for (const entry of this.sent)
        if (entry[1].length < JOBS_PER_THREAD && (target === undefined || entry[1].length < target[1].length))
          target = entry;
      if (target === undefined) return;
      const [worker, jobs] = target;
      const pending = this.waiting.shift()!;
      jobs.push(pending);
      // A thread at work keeps the process alive (a CLI command awaiting a hash); an idle one does not.
      worker.ref();
      worker.postMessage(pending.job);
    }
  }

  private settle(worker: Worker, reply: Reply): void {
    const jobs = this.sent.get(worker);
    const pending = jobs?.shift();
    if (jobs?.length === 0) worker.unref();
    this.dispatch();
    if (pending === undefined) return;
    if ('error' in reply) pending.reject(new HashingJobError(reply.error));
    else pending.resolve(reply.result);
  }

  /** A thread that died fails the job it was computing; the job in its inbox goes back in line, first, to a new thread. */
  private replace(worker: Worker, error: Error): void {
    const [failed, ...unstarted] = this.sent.get(worker) ?? [];
    this.sent.delete(worker);
    failed?.reject(error);
    if (this.closed) {
      for (const pending of unstarted) pending.reject(error);
      return;
    }
    this.waiting.unshift(...unstarted);
    this.spawn();
    this.dispatch();
  }
}
