// The one change path (src/change/): prerequisites, each operation, all-or-nothing, serial bump, and the file
// write-back keeping the operator's layout ($INCLUDE / $GENERATE records read-only).

import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyChange, type ChangeOp, type Prereq } from '../../src/change/apply.js';
import { ChangeService, type ChangeZone } from '../../src/change/service.js';
import { parseUpdate } from '../../src/change/update.js';
import { RRClass, RRType, Rcode } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { rdataFromText } from '../../src/wire/rdata/index.js';
import { NO_META, type RR } from '../../src/zone/model.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { DEFAULT_ZONE_LIMITS } from '../../src/zone/limits.js';
import type { Message } from '../../src/wire/message.js';

const origin = Name.parse('example.com.');
const n = (s: string): Name => Name.parse(s, origin);
const rd = (type: number, text: string): Uint8Array => rdataFromText(type, text.split(' ').map((t) => ({ text: t.replace(/^"|"$/g, ''), quoted: t.startsWith('"'), line: 1, col: 1 })), origin);
const rr = (owner: string, type: number, text: string, ttl = 300): RR => ({ owner: n(owner), type, class: RRClass.IN, ttl, rdata: rd(type, text), meta: NO_META });

const ZONE = `; example.com, written by hand
$ORIGIN example.com.
$TTL 3600
@\tIN SOA ns1 hostmaster (
\t\t2024010101 ; serial
\t\t7200 3600 1209600 300 )
\tIN NS ns1
\tIN NS ns2

; hosts
ns1\tIN A 192.0.2.1
ns2\tIN A 192.0.2.2
www\tIN A 192.0.2.10
\tIN A 192.0.2.11
\tIN TXT "hello"
alias\tIN CNAME www
`;

function records(text = ZONE): readonly RR[] {
  const p = parseZoneText(text, '/z/example.com.zone', { origin, zonesDir: '/z' });
  expect(p.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return p.records;
}

function apply(prereqs: readonly Prereq[], ops: readonly ChangeOp[], recs = records()) {
  return applyChange(origin, recs, prereqs, ops);
}

describe('applyChange: prerequisites (RFC 2136 §3.2)', () => {
  const cases: [string, Prereq, number][] = [
    ['RRset exists (value independent), present', { kind: 'rrset-exists', owner: n('www'), type: RRType.A }, Rcode.NOERROR],
    ['RRset exists (value independent), absent', { kind: 'rrset-exists', owner: n('www'), type: RRType.MX }, Rcode.NXRRSET],
    ['RRset exists (value dependent), equal', { kind: 'rrset-equals', owner: n('www'), type: RRType.A, rdata: [rd(RRType.A, '192.0.2.11'), rd(RRType.A, '192.0.2.10')] }, Rcode.NOERROR],
    ['RRset exists (value dependent), a subset', { kind: 'rrset-equals', owner: n('www'), type: RRType.A, rdata: [rd(RRType.A, '192.0.2.10')] }, Rcode.NXRRSET],
    ['RRset does not exist, absent', { kind: 'rrset-absent', owner: n('www'), type: RRType.MX }, Rcode.NOERROR],
    ['RRset does not exist, present', { kind: 'rrset-absent', owner: n('www'), type: RRType.TXT }, Rcode.YXRRSET],
    ['name in use, used', { kind: 'name-in-use', owner: n('alias') }, Rcode.NOERROR],
    ['name in use, unused', { kind: 'name-in-use', owner: n('nope') }, Rcode.NXDOMAIN],
    ['name not in use, unused', { kind: 'name-absent', owner: n('nope') }, Rcode.NOERROR],
    ['name not in use, used', { kind: 'name-absent', owner: n('www') }, Rcode.YXDOMAIN],
    ['outside the zone', { kind: 'name-absent', owner: Name.parse('example.org.') }, Rcode.NOTZONE],
  ];
  for (const [what, p, rcode] of cases) {
    it(what, () => {
      const r = apply([p], [{ kind: 'add', rr: rr('new', RRType.A, '192.0.2.99') }]);
      expect(r.ok ? Rcode.NOERROR : r.rcode).toBe(rcode);
      // All or nothing: a failed prerequisite leaves no addition behind.
      if (!r.ok) expect(r).not.toHaveProperty('records');
    });
  }
});

describe('applyChange: operations (RFC 2136 §3.4.2)', () => {
  const text = (r: ReturnType<typeof apply>): { added: string[]; removed: string[] } => {
    if (!r.ok) throw new Error(r.message);
    const show = (x: RR): string => `${x.owner.toString()} ${x.ttl} ${x.type}`;
    return { added: r.added.map(show), removed: r.removed.map(show) };
  };

  it('add to a new RRset and to an existing one', () => {
    expect(text(apply([], [{ kind: 'add', rr: rr('_acme-challenge', RRType.TXT, '"token"') }, { kind: 'add', rr: rr('www', RRType.A, '192.0.2.12', 3600) }]))).toEqual({
      added: ['_acme-challenge.example.com. 300 16', 'www.example.com. 3600 1'],
      removed: [],
    });
  });

  it('adding a present record changes nothing; a new TTL replaces it', () => {
    expect(text(apply([], [{ kind: 'add', rr: rr('www', RRType.A, '192.0.2.10', 3600) }]))).toEqual({ added: [], removed: [] });
    expect(text(apply([], [{ kind: 'add', rr: rr('www', RRType.A, '192.0.2.10', 60) }]))).toEqual({ added: ['www.example.com. 60 1'], removed: ['www.example.com. 3600 1'] });
  });

  it('a record deleted and added back as it was is no change (a retransmitted "delete, add" UPDATE keeps the serial)', () => {
    const again = apply([], [
      { kind: 'delete-rrset', owner: n('www'), type: RRType.A },
      { kind: 'add', rr: rr('www', RRType.A, '192.0.2.10', 3600) },
      { kind: 'add', rr: rr('www', RRType.A, '192.0.2.11', 3600) },
    ]);
    expect(text(again)).toEqual({ added: [], removed: [] });
    // With another TTL it is a change.
    expect(text(apply([], [{ kind: 'delete-rr', owner: n('www'), type: RRType.TXT, rdata: rd(RRType.TXT, '"hello"') }, { kind: 'add', rr: rr('www', RRType.TXT, '"hello"', 60) }]))).toEqual({ added: ['www.example.com. 60 16'], removed: ['www.example.com. 3600 16'] });
  });

  it('delete an RR, an RRset, all RRsets at a name', () => {
    expect(text(apply([], [{ kind: 'delete-rr', owner: n('www'), type: RRType.A, rdata: rd(RRType.A, '192.0.2.11') }]))).toEqual({ added: [], removed: ['www.example.com. 3600 1'] });
    expect(text(apply([], [{ kind: 'delete-rrset', owner: n('www'), type: RRType.A }])).removed).toEqual(['www.example.com. 3600 1', 'www.example.com. 3600 1']);
    expect(text(apply([], [{ kind: 'delete-name', owner: n('www') }])).removed).toEqual(['www.example.com. 3600 1', 'www.example.com. 3600 1', 'www.example.com. 3600 16']);
  });

  it('apex SOA and NS survive deletes (§3.4.2.3, §3.4.2.4)', () => {
    expect(text(apply([], [{ kind: 'delete-name', owner: origin }, { kind: 'delete-rrset', owner: origin, type: RRType.NS }, { kind: 'delete-rrset', owner: origin, type: RRType.SOA }]))).toEqual({ added: [], removed: [] });
    // One NS may go, the last one stays.
    const r = apply([], [{ kind: 'delete-rr', owner: origin, type: RRType.NS, rdata: rd(RRType.NS, 'ns1') }, { kind: 'delete-rr', owner: origin, type: RRType.NS, rdata: rd(RRType.NS, 'ns2') }]);
    expect(text(r).removed).toEqual(['example.com. 3600 2']);
  });

  it('CNAME and other data do not mix (§3.4.2.2)', () => {
    expect(text(apply([], [{ kind: 'add', rr: rr('alias', RRType.A, '192.0.2.5') }, { kind: 'add', rr: rr('www', RRType.CNAME, 'elsewhere') }]))).toEqual({ added: [], removed: [] });
    // A CNAME replaces the CNAME.
    expect(text(apply([], [{ kind: 'add', rr: rr('alias', RRType.CNAME, 'ns1') }]))).toEqual({ added: ['alias.example.com. 300 5'], removed: ['alias.example.com. 3600 5'] });
  });

  it('operations outside the zone: NOTZONE, nothing applied', () => {
    const r = apply([], [{ kind: 'add', rr: rr('ok', RRType.A, '192.0.2.1') }, { kind: 'add', rr: { ...rr('x', RRType.A, '192.0.2.1'), owner: Name.parse('x.example.org.') } }]);
    expect(r.ok ? 0 : r.rcode).toBe(Rcode.NOTZONE);
  });
});

describe('parseUpdate (RFC 2136 §3.1–§3.4.1)', () => {
  const msg = (answer: Message['answer'], authority: Message['authority'], qtype: number = RRType.SOA): Message => ({ id: 1, opcode: 5, flags: 5 << 11, rcode: 0, question: [{ name: origin, type: qtype, class: RRClass.IN }], answer, authority, additional: [] });
  const w = (owner: string, type: number, cls: number, ttl: number, rdata: Uint8Array = new Uint8Array(0)) => ({ owner: n(owner), type, class: cls, ttl, rdata });

  it('maps classes to prerequisites and operations', () => {
    const p = parseUpdate(msg(
      [w('a', RRType.ANY, RRClass.ANY, 0), w('b', RRType.A, RRClass.ANY, 0), w('c', RRType.ANY, RRClass.NONE, 0), w('d', RRType.TXT, RRClass.NONE, 0), w('e', RRType.A, RRClass.IN, 0, rd(RRType.A, '192.0.2.1'))],
      [w('f', RRType.A, RRClass.IN, 60, rd(RRType.A, '192.0.2.2')), w('g', RRType.A, RRClass.ANY, 0), w('h', RRType.ANY, RRClass.ANY, 0), w('i', RRType.A, RRClass.NONE, 0, rd(RRType.A, '192.0.2.3'))],
    ));
    if (!p.ok) throw new Error(p.message);
    expect(p.prereqs.map((x) => x.kind)).toEqual(['name-in-use', 'rrset-exists', 'name-absent', 'rrset-absent', 'rrset-equals']);
    expect(p.ops.map((x) => x.kind)).toEqual(['add', 'delete-rrset', 'delete-name', 'delete-rr']);
  });

  it('FORMERR and NOTZONE', () => {
    const rc = (m: Message): number => { const p = parseUpdate(m); return p.ok ? 0 : p.rcode; };
    expect(rc(msg([], [], RRType.A))).toBe(Rcode.FORMERR);
    expect(rc(msg([w('a', RRType.A, RRClass.ANY, 5)], []))).toBe(Rcode.FORMERR);
    expect(rc(msg([], [w('a', RRType.A, RRClass.ANY, 0, rd(RRType.A, '192.0.2.1'))]))).toBe(Rcode.FORMERR);
    expect(rc(msg([], [w('a', RRType.A, 3, 0)]))).toBe(Rcode.FORMERR);
    expect(rc(msg([], [{ owner: Name.parse('a.example.org.'), type: RRType.A, class: RRClass.IN, ttl: 1, rdata: rd(RRType.A, '192.0.2.1') }]))).toBe(Rcode.NOTZONE);
  });
});

describe('ChangeService: file write-back', () => {
  function setup(text: string, extra: Record<string, string> = {}, serial: ChangeZone['serial'] = 'keep', loadError?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'apexdns-change-'));
    const file = join(dir, 'example.com.zone');
    writeFileSync(file, text);
    for (const [f, t] of Object.entries(extra)) writeFileSync(join(dir, f), t);
    let reloads = 0;
    const zone: ChangeZone = { origin, file, zonesDir: dir, serial, limits: DEFAULT_ZONE_LIMITS, servedSerial: 2024010101, changedOnDisk: () => Promise.resolve(false) };
    const svc = new ChangeService({ zone: () => zone, reload: () => { reloads++; return Promise.resolve(reloads === 1 ? loadError : undefined); } });
    return { file, dir, svc, reloads: () => reloads };
  }
  const change = (svc: ChangeService, ops: ChangeOp[], prereqs: Prereq[] = []) => svc.change({ zone: origin, prereqs, ops, who: 'test' });

  it('an addition appends one line after its owner; the serial is edited in place (keep → increment)', async () => {
    const s = setup(ZONE);
    const out = await change(s.svc, [{ kind: 'add', rr: rr('www', RRType.AAAA, '2001:db8::10') }, { kind: 'add', rr: rr('_acme-challenge', RRType.TXT, '"tok"', 60) }]);
    expect(out).toMatchObject({ rcode: Rcode.NOERROR, oldSerial: 2024010101, newSerial: 2024010102 });
    expect(readFileSync(s.file, 'utf8')).toBe(ZONE.replace('2024010101 ; serial', '2024010102 ; serial').replace('\tIN TXT "hello"\n', '\tIN TXT "hello"\nwww\t300\tIN\tAAAA\t2001:db8::10\n') + '_acme-challenge\t60\tIN\tTXT\t"tok"\n');
    expect(s.reloads()).toBe(1);
  });

  it('add then delete: the file equals the original except for the serial', async () => {
    const s = setup(ZONE);
    await change(s.svc, [{ kind: 'add', rr: rr('_acme-challenge', RRType.TXT, '"tok"', 60) }]);
    const out = await change(s.svc, [{ kind: 'delete-rrset', owner: n('_acme-challenge'), type: RRType.TXT }]);
    expect(out.rcode).toBe(Rcode.NOERROR);
    expect(readFileSync(s.file, 'utf8')).toBe(ZONE.replace('2024010101 ; serial', '2024010103 ; serial'));
  });

  it('deleting a line with an explicit owner hands the owner to the next line', async () => {
    const s = setup(ZONE);
    await change(s.svc, [{ kind: 'delete-rr', owner: n('www'), type: RRType.A, rdata: rd(RRType.A, '192.0.2.10') }]);
    expect(readFileSync(s.file, 'utf8')).toBe(ZONE.replace('2024010101 ; serial', '2024010102 ; serial').replace('www\tIN A 192.0.2.10\n\tIN A 192.0.2.11', 'www\tIN A 192.0.2.11'));
  });

  it('a replaced record is edited in place', async () => {
    const s = setup(ZONE);
    await change(s.svc, [{ kind: 'add', rr: rr('alias', RRType.CNAME, 'ns1') }]);
    expect(readFileSync(s.file, 'utf8')).toBe(ZONE.replace('2024010101 ; serial', '2024010102 ; serial').replace('alias\tIN CNAME www', 'alias\t300\tIN\tCNAME\tns1.example.com.'));
  });

  it('an in-place edit keeps the record comment and cf_tags; other bytes and the file mode stay as they were', async () => {
    const text = ZONE.replace('alias\tIN CNAME www', 'alias\tIN CNAME www ; caf\u00e9 cf_tags=env:prod').replace('; hosts', '; h\u00f4tes');
    const s = setup(text);
    chmodSync(s.file, 0o640);
    await change(s.svc, [{ kind: 'add', rr: rr('alias', RRType.CNAME, 'ns1') }]);
    expect(readFileSync(s.file, 'utf8')).toBe(text.replace('2024010101 ; serial', '2024010102 ; serial').replace('alias\tIN CNAME www ;', 'alias\t300\tIN\tCNAME\tns1.example.com. ;'));
    expect(statSync(s.file).mode & 0o777).toBe(0o640);
  });

  it('a change whose file does not load is undone: the old file is put back and reloaded', async () => {
    const s = setup(ZONE, {}, 'keep', 'z:5: too many records');
    const out = await change(s.svc, [{ kind: 'add', rr: rr('x', RRType.A, '192.0.2.1') }]);
    expect(out).toMatchObject({ rcode: Rcode.REFUSED, message: 'the changed zone does not load: z:5: too many records' });
    expect(readFileSync(s.file, 'utf8')).toBe(ZONE);
    expect(s.reloads()).toBe(2);
  });

  it('the serial policy applies (unixtime)', async () => {
    const s = setup(ZONE, {}, 'unixtime');
    const before = Math.floor(Date.now() / 1000);
    const out = await change(s.svc, [{ kind: 'add', rr: rr('x', RRType.A, '192.0.2.1') }]);
    expect(out.newSerial).toBeGreaterThanOrEqual(before);
    expect(readFileSync(s.file, 'utf8')).toContain(`${out.newSerial} ; serial`);
  });

  it('a new line is written relative to the $ORIGIN in effect where it goes', async () => {
    const text = ZONE + '$ORIGIN sub.example.com.\nhost\tIN A 192.0.2.60\n';
    const s = setup(text);
    await change(s.svc, [{ kind: 'add', rr: rr('host.sub', RRType.TXT, '"t"') }, { kind: 'add', rr: rr('new', RRType.TXT, '"n"') }, { kind: 'add', rr: rr('www', RRType.MX, '5 ns1') }]);
    expect(readFileSync(s.file, 'utf8')).toBe(
      text.replace('2024010101 ; serial', '2024010102 ; serial').replace('\tIN TXT "hello"\n', '\tIN TXT "hello"\nwww\t300\tIN\tMX\t5 ns1.example.com.\n') +
        'host\t300\tIN\tTXT\t"t"\n' + 'new.example.com.\t300\tIN\tTXT\t"n"\n',
    );
  });

  it('a record over several lines is removed whole', async () => {
    const text = ZONE + 'multi\tIN TXT ( "a" ; first\n\t\t"b" )\nafter\tIN A 192.0.2.70\n';
    const s = setup(text);
    await change(s.svc, [{ kind: 'delete-name', owner: n('multi') }]);
    expect(readFileSync(s.file, 'utf8')).toBe(ZONE.replace('2024010101 ; serial', '2024010102 ; serial') + 'after\tIN A 192.0.2.70\n');
  });

  it('a failing prerequisite changes nothing (no write, no reload)', async () => {
    const s = setup(ZONE);
    const out = await change(s.svc, [{ kind: 'add', rr: rr('x', RRType.A, '192.0.2.1') }], [{ kind: 'name-in-use', owner: n('nope') }]);
    expect(out.rcode).toBe(Rcode.NXDOMAIN);
    expect(readFileSync(s.file, 'utf8')).toBe(ZONE);
    expect(s.reloads()).toBe(0);
  });

  it('$INCLUDEd and $GENERATEd records are read-only, with file and line', async () => {
    const s = setup(ZONE + '$INCLUDE inc.zone\n$GENERATE 1-3 host$ A 192.0.2.$\n', { 'inc.zone': 'inc IN A 192.0.2.50\n' });
    const a = await change(s.svc, [{ kind: 'delete-name', owner: n('inc') }]);
    expect(a).toMatchObject({ rcode: Rcode.REFUSED, message: `${join(s.dir, 'inc.zone')}:1: record inc.example.com. A comes from an $INCLUDE file and is read-only` });
    const b = await change(s.svc, [{ kind: 'delete-name', owner: n('host2') }]);
    expect(b).toMatchObject({ rcode: Rcode.REFUSED, message: `${s.file}:18: record host2.example.com. A is made by $GENERATE and is read-only` });
    expect(readFileSync(s.file, 'utf8')).toBe(ZONE + '$INCLUDE inc.zone\n$GENERATE 1-3 host$ A 192.0.2.$\n');
  });

  it('an operator edit on disk is kept: the change applies on top of it', async () => {
    const s = setup(ZONE);
    const edited = ZONE.replace('; hosts\n', '; hosts\nmail\tIN A 192.0.2.25\n');
    writeFileSync(s.file, edited);
    await change(s.svc, [{ kind: 'add', rr: rr('mail', RRType.MX, '10 mail') }]);
    expect(readFileSync(s.file, 'utf8')).toBe(edited.replace('2024010101 ; serial', '2024010102 ; serial').replace('mail\tIN A 192.0.2.25\n', 'mail\tIN A 192.0.2.25\nmail\t300\tIN\tMX\t10 mail.example.com.\n'));
  });

  it('a file that no longer parses is refused, naming it', async () => {
    const s = setup(ZONE);
    writeFileSync(s.file, ZONE + 'bad IN A not-an-address\n');
    const out = await change(s.svc, [{ kind: 'add', rr: rr('x', RRType.A, '192.0.2.1') }]);
    expect(out.rcode).toBe(Rcode.SERVFAIL);
    expect(out.message).toContain(`${s.file} does not parse as it is on disk now`);
  });
});
