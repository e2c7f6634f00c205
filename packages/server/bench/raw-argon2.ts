import { execFile } from 'node:child_process';
import { serverCommand } from './pinning.js';

/**
 * Raw argon2id verifications per second with `inFlight` at once, run by ./raw-argon2.mjs in a
 * process of its own: on the server core when `pinned` (so that it meets the same single core
 * the pinned server hashes on), anywhere otherwise.
 */
export function rawArgon2PerSecond({
  seconds,
  inFlight,
  pinned,
}: {
  seconds: number;
  inFlight: number;
  pinned: boolean;
}): Promise<{ perSecond: number; affinity: string }> {
  const script = [new URL('./raw-argon2.mjs', import.meta.url).pathname, String(seconds), String(inFlight)];
  const { command, args } = pinned ? serverCommand(script) : { command: process.execPath, args: script };
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: (seconds + 60) * 1000 }, (error, stdout) => {
      if (error !== null) reject(new Error(`the raw argon2id process failed: ${error.message}`));
      else resolve(JSON.parse(stdout) as { perSecond: number; affinity: string });
    });
  });
}
