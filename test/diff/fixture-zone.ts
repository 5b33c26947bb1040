// Minimal reader for the differential-test fixture zones (one record per line): owners, types, zone cuts and
// wildcards, used to generate queries. Not a general zone-file parser (that lives in src/zone/).

import { readFileSync } from 'node:fs';

export interface FixtureRecord {
  /** Absolute owner, original case. */
  readonly owner: string;
  readonly type: string;
}

export interface FixtureZone {
  readonly origin: string;
  readonly file: string;
  readonly records: readonly FixtureRecord[];
  /** Distinct owners (lowercased, absolute). */
  readonly owners: readonly string[];
  /** Owners of NS records other than the apex (delegation points), lowercased. */
  readonly cuts: readonly string[];
  /** Types present at each lowercased owner. */
  readonly typesAt: ReadonlyMap<string, readonly string[]>;
}

function absolute(name: string, origin: string): string {
  if (name === '@') return origin;
  if (name.endsWith('.')) return name;
  return `${name}.${origin === '.' ? '' : origin}`;
}

const CLASSES = new Set(['IN', 'CH', 'HS']);

export function readFixtureZone(file: string, origin: string): FixtureZone {
  let cur = origin.endsWith('.') ? origin : origin + '.';
  const zoneOrigin = cur;
  const records: FixtureRecord[] = [];
  let last = cur;
  for (const rawLine of readFileSync(file, 'utf8').split('\n')) {
    const line = rawLine.replace(/;.*$/, '');
    if (line.trim().length === 0) continue;
    const toks = line.trim().split(/\s+/);
    if (toks[0] === '$ORIGIN') {
      cur = toks[1]!;
      continue;
    }
    if (toks[0]!.startsWith('$')) continue;
    let i = 0;
    let owner = last;
    if (!/^\s/.test(line)) {
      owner = absolute(toks[0]!, cur);
      i = 1;
    }
    last = owner;
    while (i < toks.length && (/^\d+$/.test(toks[i]!) || CLASSES.has(toks[i]!.toUpperCase()))) i++;
    const type = toks[i];
    if (type === undefined) throw new Error(`${file}: no type in line: ${rawLine}`);
    records.push({ owner, type: type.toUpperCase() });
  }
  const typesAt = new Map<string, string[]>();
  for (const r of records) {
    const k = r.owner.toLowerCase();
    const l = typesAt.get(k) ?? [];
    if (!l.includes(r.type)) l.push(r.type);
    typesAt.set(k, l);
  }
  const cuts = [...typesAt.entries()].filter(([o, t]) => t.includes('NS') && o !== zoneOrigin.toLowerCase()).map(([o]) => o);
  return { origin: zoneOrigin, file, records, owners: [...typesAt.keys()], cuts, typesAt };
}
