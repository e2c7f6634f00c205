/**
 * Where the bench's processes run. Auth servers are compared with the whole server process
 * (every thread) on one core and the load generator on another (issue 16): on a machine with at
 * least two cores the bench starts every server process — Tessera and each baseline — under
 * `taskset -c 0`, so every thread it ever creates inherits core 0, and moves itself (its load,
 * and every load process it starts later) to core 1. BENCH_PIN=0 turns this off.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export const SERVER_CORE = 0;
export const LOAD_CORE = 1;
/** Read before this process pins itself: availableParallelism() follows the affinity. */
export const machineCores = availableParallelism();

function tasksetFound(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function decide(): { enabled: boolean; why: string } {
  if (process.env.BENCH_PIN === '0') return { enabled: false, why: 'BENCH_PIN=0' };
  if (machineCores < 2) return { enabled: false, why: `${machineCores} core` };
  if (!tasksetFound()) return { enabled: false, why: 'taskset (util-linux) not found' };
  return { enabled: true, why: 'default on ≥ 2 cores' };
}

export const pinning = decide();
/** False again once this process has undone its own pinning (the cluster part runs unpinned). */
let active = pinning.enabled;

/** How a server process is started: under `taskset -c 0` while pinned, so all its threads stay on core 0. */
export function serverCommand(args: string[]): { command: string; args: string[] } {
  if (!active) return { command: process.execPath, args };
  return { command: 'taskset', args: ['-c', String(SERVER_CORE), process.execPath, ...args] };
}

/** The environment a pinned server gets: one password hash at a time, on its one core. */
export function serverEnv(): Record<string, string> {
  return active ? { TESSERA_HASH_CONCURRENCY: '1' } : {};
}

/**
 * Moves every thread of this process to the load core (`-a`: every existing thread, not only
 * the main one); threads and processes it creates later inherit it. Returns the undo.
 */
export function pinThisProcess(): () => void {
  if (!pinning.enabled) return () => undefined;
  const original = cpusAllowed(process.pid, String(process.pid));
  execFileSync('taskset', ['-a', '-cp', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  return () => {
    execFileSync('taskset', ['-a', '-cp', original, String(process.pid)], { stdio: 'ignore' });
    active = false;
  };
}

function cpusAllowed(pid: number, task: string): string {
  const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '?';
}

/** "12 threads on CPU 0": the CPUs each thread of `pid` may run on, read from /proc (Linux). */
export function affinityOf(pid: number): string {
  try {
    const counts = new Map<string, number>();
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      let cpus: string;
      try {
        cpus = cpusAllowed(pid, task);
      } catch {
        continue; // the thread ended meanwhile
      }
      counts.set(cpus, (counts.get(cpus) ?? 0) + 1);
    }
    return [...counts]
      .map(([cpus, threads]) => `${threads} thread${threads === 1 ? '' : 's'} on CPU ${cpus}`)
      .join(', ');
  } catch {
    return 'affinity unknown (no /proc)';
  }
}

/** The method line printed at the top of the output. */
export function methodLine(): string {
  return pinning.enabled
    ? `pinned: every server process (all threads) on CPU ${SERVER_CORE} via taskset, TESSERA_HASH_CONCURRENCY=1; the bench and its load processes on CPU ${LOAD_CORE}`
    : `unpinned (${pinning.why}): servers and load share all ${machineCores} cores`;
}

/**
 * CPU time (user + system, ms) of one process's main thread — Node's event loop — read from
 * /proc (Linux; clock ticks, 10 ms resolution); undefined elsewhere. The event loop's own CPU per
 * request, without the hashing threads' and the collector's helpers, is what the server's code costs.
 */
export function eventLoopCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, in parentheses): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}
