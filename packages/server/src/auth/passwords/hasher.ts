import { TesseraError } from '../../errors.js';
import { HashingJobError, HashingThreads, type HashingJob } from './hashing-threads.js';

export interface Argon2Parameters {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1. */
export const OWASP_ARGON2ID: Argon2Parameters = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

// @node-rs/argon2's `Algorithm` is a const enum, which isolated modules cannot read: 2 is Argon2id.
const ARGON2ID = 2;
const ARGON2ID_PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** Whether a hash made elsewhere can be stored as a user's password hash. */
export function isImportableHash(hash: string): boolean {
  return ARGON2ID_PHC.test(hash) || BCRYPT.test(hash);
}

export interface VerifyResult {
  valid: boolean;
  /** The hash uses an older algorithm or parameters: store a new one now that the password is known. */
  needsRehash: boolean;
}

export interface PasswordHasherOptions {
  argon2: Argon2Parameters;
  /** Hashes computed at once, each on a thread of its own, off the event loop and below its priority. */
  concurrency: number;
  /** Hashes allowed to wait before callers get `overloaded`. */
  maxQueue: number;
}

/**
 * Hashes new passwords with argon2id and verifies stored argon2id or imported bcrypt hashes,
 * on threads of their own. At most `concurrency + maxQueue` checks are taken at once; past
 * that a caller gets `overloaded` at once, so a login storm gets fast 503s instead of a growing
 * backlog that would starve every other request of CPU and memory. An unknown user is verified
 * against a dummy hash, so the answer takes as long as for a real one.
 */
export class PasswordHasher {
  private readonly threads: HashingThreads;
  private taken = 0;
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly options: PasswordHasherOptions) {
    this.threads = new HashingThreads(options.concurrency);
  }

  hash(normalizedPassword: string): Promise<string> {
    return this.take(() => this.argon2Hash(normalizedPassword));
  }

  /** `storedHash` null means "no such user": the work is done all the same and the answer is no. */
  async verify(storedHash: string | null, normalizedPassword: string): Promise<VerifyResult> {
    if (storedHash === null) {
      await this.take(async () =>
        this.check({ op: 'argon2.verify', hash: await this.dummy(), password: normalizedPassword }),
      );
      return { valid: false, needsRehash: false };
    }
    const argon2 = ARGON2ID_PHC.exec(storedHash);
    if (argon2 !== null) {
      const valid = await this.take(() =>
        this.check({ op: 'argon2.verify', hash: storedHash, password: normalizedPassword }),
      );
      const [, memoryCost, timeCost, parallelism] = argon2.map(Number);
      const { argon2: current } = this.options;
      return {
        valid,
        needsRehash:
          valid &&
          (memoryCost !== current.memoryCost || timeCost !== current.timeCost || parallelism !== current.parallelism),
      };
    }
    if (BCRYPT.test(storedHash)) {
      // bcrypt reads at most 72 bytes; users moving from elsewhere are upgraded to argon2id at login.
      const valid = await this.take(() =>
        this.check({ op: 'bcrypt.verify', hash: storedHash, password: normalizedPassword }),
      );
      return { valid, needsRehash: valid };
    }
    return { valid: false, needsRehash: false };
  }

  stats(): { running: number; queued: number } {
    return this.threads.stats();
  }

  /** Stops the hashing threads. */
  close(): Promise<void> {
    return this.threads.close();
  }

  /** Runs `work` if the hasher has room for one more check, else refuses with `overloaded`. */
  private async take<T>(work: () => Promise<T>): Promise<T> {
    if (this.taken >= this.options.concurrency + this.options.maxQueue) {
      throw new TesseraError('overloaded', {
        message: 'Too many password checks are waiting; retry shortly.',
        retryAfterSeconds: 1,
      });
    }
    this.taken += 1;
    try {
      return await work();
    } finally {
      this.taken -= 1;
    }
  }

  private async argon2Hash(password: string): Promise<string> {
    return String(
      await this.threads.run({ op: 'argon2.hash', password, options: { algorithm: ARGON2ID, ...this.options.argon2 } }),
    );
  }

  /**
   * A verification; a hash the library cannot read counts as a mismatch. A thread that died or
   * was stopped is not a wrong password: that failure reaches the caller.
   */
  private async check(job: HashingJob): Promise<boolean> {
    const matched = await this.threads.run(job).catch((error: unknown) => {
      if (error instanceof HashingJobError) return false;
      throw error;
    });
    return matched === true;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.argon2Hash('dummy password for unknown users').catch((error: unknown) => {
      // A failed attempt (a thread that died) is not kept: the next unknown user tries again.
      this.dummyHash = undefined;
      throw error;
    });
    return this.dummyHash;
  }
}
