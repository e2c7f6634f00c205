/**
 * The closing table of `npm run bench -- pinned`: issue 16's figures, each as the median ratio of
 * its rounds with the lowest and highest round, against issue 16's targets (one pinned core for
 * the server, after the warm-up mix), and what the V8 heap holds per idle connection.
 */
export interface Issue16Figure {
  name: string;
  value: number;
  baseline: number;
  ratio: number;
  unit: string;
  spread?: [number, number];
}

/** Lines the parts add for the closing table (what the heap holds per connection). */
export const issue16Notes: string[] = [];

const TARGETS: { prefix: string; label: string; at: number; most?: boolean }[] = [
  { prefix: '(b)', label: 'authenticated GET /me ÷ bare Fastify', at: 0.6 },
  { prefix: '(a)', label: 'password logins ÷ raw argon2id (same core)', at: 0.85 },
  { prefix: '(d)', label: 'authenticated WS handshakes ÷ raw ws', at: 0.8 },
  { prefix: '(e)', label: 'RSS per idle authenticated connection ÷ raw ws', at: 1.2, most: true },
  { prefix: '(e2)', label: 'V8 heap + external per idle connection ÷ raw ws', at: Number.NaN, most: true },
];

export function printIssue16(figures: Issue16Figure[]): void {
  console.log('\nIssue 16 (server pinned to one core, after the warm-up mix)\n');
  console.log('| figure | ratio (median of rounds) | rounds, lowest–highest | Tessera | baseline | target | |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const target of TARGETS) {
    const figure = figures.find((candidate) => candidate.name.startsWith(`${target.prefix} `));
    if (figure === undefined) continue;
    const spread = figure.spread === undefined ? 'one round' : figure.spread.map((ratio) => ratio.toFixed(3)).join('–');
    const goal = Number.isNaN(target.at) ? 'report' : `${target.most === true ? '≤' : '≥'} ${target.at}`;
    const met = Number.isNaN(target.at)
      ? ''
      : (target.most === true ? figure.ratio <= target.at : figure.ratio >= target.at)
        ? 'met'
        : 'not met';
    console.log(
      `| ${target.label} | ${figure.ratio.toFixed(3)} | ${spread} | ${figure.value.toFixed(1)} | ${figure.baseline.toFixed(1)} ${figure.unit} | ${goal} | ${met} |`,
    );
  }
  if (issue16Notes.length > 0) console.log(`\n${issue16Notes.join('\n')}`);
}
