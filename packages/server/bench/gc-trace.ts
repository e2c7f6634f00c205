/**
 * Sums the lines V8 prints with `--trace-gc-nvp` (one per collection: `gc=s` for a scavenge of
 * the young generation, `gc=ms` or another kind for the old generation's collections), for
 * `npm run bench -- regime` (./regime.ts).
 */
export interface GcSummary {
  scavenges: number;
  markCompacts: number;
  scavengePauseMs: number;
  markCompactPauseMs: number;
  promotedBytes: number;
  survivedBytes: number;
  allocatedBytes: number;
  /** Mean of V8's per-scavenge survival ratio (promoted + copied ÷ the young generation's size before). */
  survivalPercent: number;
}

/** Sums the `--trace-gc-nvp` lines of one interval. */
export function summarizeGcTrace(lines: string[]): GcSummary {
  const summary: GcSummary = {
    scavenges: 0,
    markCompacts: 0,
    scavengePauseMs: 0,
    markCompactPauseMs: 0,
    promotedBytes: 0,
    survivedBytes: 0,
    allocatedBytes: 0,
    survivalPercent: 0,
  };
  let survival = 0;
  for (const line of lines) {
    const kind = / gc=(\S+)/.exec(line)?.[1];
    if (kind === undefined) continue;
    const number = (field: string) => Number(new RegExp(` ${field}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    const pause = number('pause');
    if (kind === 's') {
      summary.scavenges += 1;
      summary.scavengePauseMs += pause;
      summary.promotedBytes += number('promoted');
      summary.survivedBytes += number('new_space_survived');
      summary.allocatedBytes += number('allocated');
      survival += number('promotion_ratio') + number('new_space_survive_rate_');
    } else {
      summary.markCompacts += 1;
      summary.markCompactPauseMs += pause;
    }
  }
  summary.survivalPercent = summary.scavenges === 0 ? 0 : survival / summary.scavenges;
  return summary;
}
