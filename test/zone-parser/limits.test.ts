// Zone caps against a hostile zone file (src/zone/limits.ts): file bytes incl. $INCLUDEs, records per RRset, records
// per zone with $GENERATE, include depth; each refusal names the cap and points at file:line:column.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Name } from '../../src/wire/name.js';
import { parseZoneFile, parseZoneText, type ParseResult } from '../../src/zone/parser.js';
import { loadZone } from '../../src/zone/load.js';
import { DEFAULT_ZONE_LIMITS, type ZoneLimits } from '../../src/zone/limits.js';
import type { Diagnostic } from '../../src/zone/model.js';

const ORIGIN = Name.parse('example.com.');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apexdns-limits-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HEAD = '$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n';

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}
function errors(diags: readonly Diagnostic[]): string[] {
  return diags.filter((d) => d.severity === 'error').map((d) => `${d.pos.file}:${d.pos.line}:${d.pos.col} ${d.message}`);
}
function errs(res: ParseResult): string[] {
  return errors(res.diagnostics);
}
function limits(l: Partial<ZoneLimits>): ZoneLimits {
  return { ...DEFAULT_ZONE_LIMITS, ...l };
}

describe('limits.max-file-size', () => {
  it('refuses a main file larger than the cap before reading it, at line 1', async () => {
    const f = write('big.zone', HEAD + 'www A 192.0.2.2\n');
    const size = fs.statSync(f).size;
    const res = await parseZoneFile(f, { origin: ORIGIN, zonesDir: dir, maxFileSize: size - 1 });
    expect(errs(res)).toEqual([`${f}:1:1 zone file is ${size} bytes, more than ${size - 1} bytes (limits.max-file-size)`]);
    expect(res.records).toEqual([]);
    // At exactly the cap it loads.
    expect(errs(await parseZoneFile(f, { origin: ORIGIN, zonesDir: dir, maxFileSize: size }))).toEqual([]);
  });

  it('counts $INCLUDEd files into the same budget and reports at the $INCLUDE', async () => {
    const inc = write('part.zone', 'a A 192.0.2.10\nb A 192.0.2.11\n');
    const main = write('with-inc.zone', `${HEAD}$INCLUDE part.zone\nc A 192.0.2.12\n`);
    const total = fs.statSync(inc).size + fs.statSync(main).size;
    const ok = await parseZoneFile(main, { origin: ORIGIN, zonesDir: dir, maxFileSize: total });
    expect(errs(ok)).toEqual([]);
    expect(ok.records.length).toBe(6);
    const res = await parseZoneFile(main, { origin: ORIGIN, zonesDir: dir, maxFileSize: total - 1 });
    const incSize = fs.statSync(inc).size;
    expect(errs(res)).toEqual([`${main}:6:10 $INCLUDE "part.zone" (${incSize} bytes) takes the zone past ${total - 1} bytes (limits.max-file-size)`]);
    // Parsing stops there: nothing after the refused include is read.
    expect(res.records.map((r) => r.owner.toString())).toEqual(['example.com.', 'example.com.', 'ns1.example.com.']);
    // The synchronous parser (zone text in hand, includes from disk) applies the same cap.
    const sync = parseZoneText(fs.readFileSync(main, 'utf8'), main, { origin: ORIGIN, zonesDir: dir, maxFileSize: total - 1 });
    expect(errs(sync)).toEqual(errs(res));
  });

  it('loadZone passes the cap on and the zone is not loaded', async () => {
    const f = write('big2.zone', HEAD);
    const res = await loadZone(ORIGIN, f, dir, { limits: limits({ maxFileSize: 64 }) });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(errors(res.diagnostics)).toEqual([`${f}:1:1 zone file is ${fs.statSync(f).size} bytes, more than 64 bytes (limits.max-file-size)`]);
  });
});

describe('limits.max-rrset', () => {
  it('refuses an RRset with more records than the cap, at the first record over it; duplicates do not count', async () => {
    const f = write('rrset.zone', `${HEAD}www A 192.0.2.1\nwww A 192.0.2.2\nwww A 192.0.2.1\nwww A 192.0.2.3\nother A 192.0.2.9\nwww A 192.0.2.4\n`);
    const ok = await loadZone(ORIGIN, f, dir, { limits: limits({ maxRrset: 3 }) });
    expect(ok.ok).toBe(false);
    if (!ok.ok) expect(errors(ok.diagnostics)).toEqual([`${f}:11:1 A RRset at www.example.com. has more than 3 records (limits.max-rrset)`]);
    const four = await loadZone(ORIGIN, f, dir, { limits: limits({ maxRrset: 4 }) });
    expect(four.ok).toBe(true);
    if (four.ok) expect(four.zone.snapshot.nodes.get(Name.parse('www.example.com.').key)?.rrsets.get(1)?.rdata.length).toBe(4);
  });

  it('drops duplicates in a large RRset too (indexed past 32 records), and they do not count against the cap', async () => {
    const rr = (i: number): string => `pool A 10.0.${i >> 8}.${i & 255}\n`;
    // 200 distinct records, each written twice (the second copies after all the first ones), case-varied owner.
    const text = HEAD + Array.from({ length: 200 }, (_, i) => rr(i)).join('') + Array.from({ length: 200 }, (_, i) => rr(199 - i).replace('pool', 'POOL')).join('');
    const res = await loadZone(ORIGIN, write('dups.zone', text), dir, { limits: limits({ maxRrset: 200 }) });
    expect(res.ok).toBe(true);
    if (res.ok) expect(res.zone.snapshot.nodes.get(Name.parse('pool.example.com.').key)?.rrsets.get(1)?.rdata.length).toBe(200);
  });

  it('the default (1000) loads an RRset of 1000 records and refuses 1001', async () => {
    const rr = (n: number): string => Array.from({ length: n }, (_, i) => `pool A 10.0.${i >> 8}.${i & 255}\n`).join('');
    expect((await loadZone(ORIGIN, write('pool1000.zone', HEAD + rr(1000)), dir)).ok).toBe(true);
    const f = write('pool1001.zone', HEAD + rr(1001));
    const res = await loadZone(ORIGIN, f, dir);
    expect(res.ok ? [] : errors(res.diagnostics)).toEqual([`${f}:1006:1 A RRset at pool.example.com. has more than 1000 records (limits.max-rrset)`]);
  });
});

describe('limits.max-records and limits.max-include-depth through loadZone', () => {
  it('counts $GENERATE output against max-records', async () => {
    const f = write('gen.zone', `${HEAD}$GENERATE 1-100 h$ A 192.0.2.$\n`);
    const res = await loadZone(ORIGIN, f, dir, { limits: limits({ maxRecords: 50 }) });
    expect(res.ok ? [] : errors(res.diagnostics)).toEqual([`${f}:6:1 zone has more than 50 records (limits.max-records)`]);
    expect((await loadZone(ORIGIN, f, dir, { limits: limits({ maxRecords: 103 }) })).ok).toBe(true);
  });

  it('max-include-depth 0 forbids $INCLUDE', async () => {
    write('leaf.zone', 'leaf A 192.0.2.7\n');
    const f = write('inc0.zone', `${HEAD}$INCLUDE leaf.zone\n`);
    const res = await loadZone(ORIGIN, f, dir, { limits: limits({ maxIncludeDepth: 0 }) });
    expect(res.ok ? [] : errors(res.diagnostics)).toEqual([`${f}:6:10 $INCLUDE nested more than 0 levels deep (limits.max-include-depth)`]);
    expect((await loadZone(ORIGIN, f, dir, { limits: limits({ maxIncludeDepth: 1 }) })).ok).toBe(true);
  });
});
