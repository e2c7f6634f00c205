/**
 * What the V8 heap holds per idle connection (issue 16, item 3): two heap snapshots of a server
 * process, before and after N connections, summed by object type (constructor name; strings,
 * code and V8 internals by kind) and compared — the growth of each type divided by N.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface TypeTotals {
  count: number;
  bytes: number;
}

/** The kind a node is counted under: its constructor for objects, its kind for the rest. */
function kindOf(type: string, name: string): string {
  if (type === 'object' || type === 'native' || type === 'regexp') return name;
  if (type === 'closure') return `${name || '(anonymous)'}()`;
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return '(string)';
  if (type === 'array' || type === 'hidden' || type === 'object shape') return `(${type}) ${name.slice(0, 40)}`;
  return `(${type})`;
}

/** Self sizes and counts by kind, from a `.heapsnapshot` file. */
export function summarize(path: string): Map<string, TypeTotals> {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [
    number,
    number,
    number,
  ];
  const totals = new Map<string, TypeTotals>();
  for (let node = 0; node < nodes.length; node += fields.length) {
    const kind = kindOf(types[nodes[node + typeAt]!]!, strings[nodes[node + nameAt]!]!);
    const entry = totals.get(kind) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += nodes[node + sizeAt]!;
    totals.set(kind, entry);
  }
  return totals;
}

/** The whole heap's growth per connection, every kind counted (to compare with the heap used). */
export function totalGrowthPerConnection(
  before: Map<string, TypeTotals>,
  after: Map<string, TypeTotals>,
  connections: number,
): number {
  const sum = (totals: Map<string, TypeTotals>) =>
    [...totals.values()].reduce((bytes, entry) => bytes + entry.bytes, 0);
  return (sum(after) - sum(before)) / connections;
}

/** The kinds that grew most between two snapshots, per connection, largest first. */
export function growthPerConnection(
  before: Map<string, TypeTotals>,
  after: Map<string, TypeTotals>,
  connections: number,
  top = 15,
): { kind: string; objects: number; bytes: number }[] {
  return [...after]
    .map(([kind, { count, bytes }]) => ({
      kind,
      objects: (count - (before.get(kind)?.count ?? 0)) / connections,
      bytes: (bytes - (before.get(kind)?.bytes ?? 0)) / connections,
    }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}
