import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The work a hashing thread does: argon2id hashes and verifications, and bcrypt verifications. */
export type HashingJob =
  | { op: 'argon2.hash'; password: string; options: { algorithm: number; memoryCost: number; timeCost: number; parallelism: number } }
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

interface Pending {
  resolve: (result: string | boolean) => void;
  reject: (error: Error) => void;
}

/**
 * A fixed set of threads that do the password hashing, each one job at a time, at a lower
 * priority than the event loop. The caller bounds how many jobs are in flight (see
 * BoundedWorkQueue); jobs beyond the threads' count wait here in order.
 */
export class HashingThreads {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  /** The job each busy thread is on. */
  private readonly busy = new Map<Worker, Pending>();
  private workers = new Set<Worker>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly nice = 19,
  ) {}

  async run(job: HashingJob): Promise<string | boolean> {
    if (this.closed) throw new Error('the password hashing threads are closed');
    if (this.workers.size === 0) for (let index = 0; index < this.size; index += 1) this.release(this.spawn());
    const worker = await this.acquire();
    return new Promise((resolve, reject) => {
      this.busy.set(worker, { resolve, reject });
      // A thread at work keeps the process alive (a CLI command awaiting a hash); an idle one does not.
      worker.ref();
      worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.workers];
    this.workers.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  /** Threads start on the first job, so a process that never hashes never pays for them. */
  private spawn(): Worker {
    const workerData = { nice: this.nice, argon2: require.resolve('@node-rs/argon2'), bcrypt: require.resolve('@node-rs/bcrypt') };
    const worker = new Worker(THREAD_SOURCE, { eval: true, workerData, name: 'tessera-password-hashing' });
    worker.on('message', (reply: Reply) => this.settle(worker, reply));
    worker.on('error', (error) => this.replace(worker, error));
    worker.unref();
    this.workers.add(worker);
    return worker;
  }

  private acquire(): Promise<Worker> {
    const worker = this.idle.pop();
    if (worker !== undefined) return Promise.resolve(worker);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next === undefined) this.idle.push(worker);
    else next(worker);
  }

  private settle(worker: Worker, reply: Reply): void {
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    worker.unref();
    this.release(worker);
    if ('error' in reply) pending?.reject(new Error(reply.error));
    else pending?.resolve(reply.result);
  }

  /** A thread that died fails its job; a new one takes its place. */
  private replace(worker: Worker, error: Error): void {
    this.busy.get(worker)?.reject(error);
    this.busy.delete(worker);
    this.workers.delete(worker);
    if (!this.closed) this.release(this.spawn());
  }
}
