import { hash as bcryptHash } from '@node-rs/bcrypt';
import { afterEach, describe, expect, it } from 'vitest';
import { PasswordHasher, type PasswordHasherOptions } from '../../src/auth/passwords/index.js';

const SMALL = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const PASSWORD = 'correct horse battery staple';

describe('PasswordHasher', () => {
  const hashers: PasswordHasher[] = [];
  const hasher = (options: Partial<PasswordHasherOptions> = {}) => {
    const created = new PasswordHasher({ argon2: SMALL, concurrency: 2, maxQueue: 16, ...options });
    hashers.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(hashers.splice(0).map((created) => created.close()));
  });

  it('hashes with argon2id at the configured parameters and verifies', async () => {
    const passwords = hasher({ argon2: { memoryCost: 2048, timeCost: 2, parallelism: 1 } });
    const stored = await passwords.hash(PASSWORD);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=2048,t=2,p=1\$/);
    expect(await passwords.verify(stored, PASSWORD)).toEqual({ valid: true, needsRehash: false });
    expect(await passwords.verify(stored, 'correct horse battery stapler')).toEqual({
      valid: false,
      needsRehash: false,
    });
  });

  it('asks for a rehash when the stored hash used other parameters', async () => {
    const stored = await hasher({ argon2: SMALL }).hash(PASSWORD);
    const stronger = hasher({ argon2: { memoryCost: 2048, timeCost: 2, parallelism: 1 } });
    expect(await stronger.verify(stored, PASSWORD)).toEqual({ valid: true, needsRehash: true });
    // A wrong password never triggers a rehash.
    expect(await stronger.verify(stored, 'not the password at all')).toEqual({ valid: false, needsRehash: false });
  });

  it('verifies imported bcrypt hashes and asks to move them to argon2id', async () => {
    const passwords = hasher();
    for (const stored of [await bcryptHash(PASSWORD, 4), (await bcryptHash(PASSWORD, 4)).replace(/^\$2b\$/, '$2a$')]) {
      expect(await passwords.verify(stored, PASSWORD)).toEqual({ valid: true, needsRehash: true });
      expect(await passwords.verify(stored, 'wrong password here')).toEqual({ valid: false, needsRehash: false });
    }
  });

  it('answers no, without throwing, for a hash it cannot read', async () => {
    const passwords = hasher();
    for (const stored of [
      '',
      'plain text',
      '$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA',
      '$argon2id$v=19$m=1024,t=1,p=1$!!!$???',
    ]) {
      expect(await passwords.verify(stored, PASSWORD)).toEqual({ valid: false, needsRehash: false });
    }
  });

  it('refuses work past its queue with overloaded and a retry hint, and finishes what it took', async () => {
    const passwords = hasher({ concurrency: 1, maxQueue: 1 });
    const stored = await passwords.hash(PASSWORD);
    const results = await Promise.allSettled([
      passwords.verify(stored, PASSWORD),
      passwords.verify(stored, PASSWORD),
      passwords.verify(stored, PASSWORD),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'overloaded', retryAfterSeconds: 1 });
    expect(passwords.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('spends a full verification on an unknown user, so it cannot be told apart by cost', async () => {
    const passwords = hasher({ concurrency: 1, maxQueue: 0 });
    const unknown = passwords.verify(null, PASSWORD);
    // The unknown user's dummy verification holds the only slot: another check must wait, and may not.
    await expect(
      passwords.verify('$2b$04$abcdefghijklmnopqrstuuM2R0DkH8GFOhAoq.T0JdcAW4A6kQHSO', PASSWORD),
    ).rejects.toMatchObject({ code: 'overloaded' });
    expect(await unknown).toEqual({ valid: false, needsRehash: false });
  });

  it('takes checks in the order they come, each thread holding its next one, and counts them', async () => {
    const passwords = hasher({ concurrency: 1, maxQueue: 8 });
    const stored = await passwords.hash(PASSWORD);
    const finished: number[] = [];
    const checks = Array.from({ length: 5 }, (_, index) =>
      passwords
        .verify(stored, index % 2 === 0 ? PASSWORD : 'wrong password here')
        .then((result) => finished.push(index) && result.valid),
    );
    // One computes; four wait, one of them already in the thread's inbox.
    expect(passwords.stats()).toEqual({ running: 1, queued: 4 });
    expect(await Promise.all(checks)).toEqual([true, false, true, false, true]);
    expect(finished).toEqual([0, 1, 2, 3, 4]);
    expect(passwords.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('fails the checks it has not finished when closed, instead of leaving them waiting', async () => {
    const passwords = hasher({ concurrency: 1, maxQueue: 4 });
    const stored = await passwords.hash(PASSWORD);
    const checks = [
      passwords.verify(stored, PASSWORD),
      passwords.verify(stored, PASSWORD),
      passwords.verify(stored, PASSWORD),
    ];
    await passwords.close();
    const results = await Promise.allSettled(checks);
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
  });
});
