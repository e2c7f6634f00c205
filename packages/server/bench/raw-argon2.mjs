// The baseline of (a), in a process of its own (on the server core when the bench pins, as the
// server's hashing is): raw argon2id verifications at OWASP parameters (m = 19 MiB, t = 2, p = 1)
// for argv[2] seconds with argv[3] in flight. Prints its rate and its threads' CPUs as JSON.
import { readdirSync, readFileSync } from 'node:fs';
import { hash, verify } from '@node-rs/argon2';

const [seconds, inFlight] = process.argv.slice(2).map(Number);
// @node-rs/argon2's Algorithm is a const enum: 2 is Argon2id.
const OWASP = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const PASSWORD = 'correct horse battery staple';

const stored = await hash(PASSWORD, OWASP);
const deadline = performance.now() + seconds * 1000;
let done = 0;
const worker = async () => {
  while (performance.now() < deadline) {
    await verify(stored, PASSWORD);
    done += 1;
  }
};
const started = performance.now();
await Promise.all(Array.from({ length: inFlight }, worker));
const perSecond = done / ((performance.now() - started) / 1000);

/** The CPUs each of this process's threads may run on (Linux), read once the hashing threads exist. */
function affinity() {
  try {
    const cpus = readdirSync('/proc/self/task').map(
      (task) => /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/self/task/${task}/status`, 'utf8'))?.[1],
    );
    return [...new Set(cpus)].join(' / ') + ` (${cpus.length} threads)`;
  } catch {
    return 'unknown';
  }
}

process.stdout.write(JSON.stringify({ perSecond, affinity: affinity() }));
