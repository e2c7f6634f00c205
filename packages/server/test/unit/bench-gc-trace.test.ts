import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { summarizeGcTrace } from '../../bench/gc-trace.js';

// Two lines as V8 (Node 20) prints them with --trace-gc-nvp, cut to the fields that are read.
const SCAVENGE =
  '[11474:0x3ee58870]       51 ms: pause=1.8 mutator=2.9 gc=s reduce_memory=0 scavenge=1.26 total_size_before=4069096 allocated=882200 promoted=89792 new_space_survived=34000 nodes_promoted=2 promotion_ratio=8.8% average_survival_ratio=11.2% promotion_rate=84.1% new_space_survive_rate_=3.3% new_space_allocation_throughput=301092.2';
const MARK_COMPACT = '[11474:0x3ee58870]      120 ms: pause=6.5 mutator=60.1 gc=ms reduce_memory=0 mark=3.1';

describe('the regime bench reads the GC trace', () => {
  it('sums scavenges and mark-compacts, bytes and pauses, from --trace-gc-nvp lines', () => {
    const summary = summarizeGcTrace([SCAVENGE, 'a line of the server that is no trace', SCAVENGE, MARK_COMPACT]);
    expect(summary).toMatchObject({
      scavenges: 2,
      markCompacts: 1,
      markCompactPauseMs: 6.5,
      promotedBytes: 2 * 89792,
      survivedBytes: 2 * 34000,
      allocatedBytes: 2 * 882200,
    });
    expect(summary.scavengePauseMs).toBeCloseTo(3.6, 9);
    // promotion_ratio + new_space_survive_rate_, averaged over the scavenges
    expect(summary.survivalPercent).toBeCloseTo(12.1, 9);
  });

  it('reads what the running Node prints', () => {
    const output = execFileSync(
      process.execPath,
      [
        '--trace-gc-nvp',
        '--max-semi-space-size=1',
        '-e',
        'let a = []; for (let i = 0; i < 300000; i++) { a.push({ i }); if (a.length > 1000) a = []; }',
      ],
      { encoding: 'utf8' },
    );
    const lines = output.split('\n');
    const summary = summarizeGcTrace(lines);
    expect(summary.scavenges).toBe(lines.filter((line) => / gc=s /.test(line)).length);
    expect(summary.scavenges).toBeGreaterThan(0);
    expect(summary.allocatedBytes).toBeGreaterThan(0);
    expect(summary.survivalPercent).toBeGreaterThanOrEqual(0);
  });
});
