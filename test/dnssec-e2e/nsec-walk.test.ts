// Independent check of denial nsec with ldns-verify-zone: walk the live-signed zone through its own NSEC chain
// (querying type NSEC at each name, then every type its bitmap lists), write what was served as a zone file, and
// let ldns verify every signature and that the NSEC chain is complete and in canonical order (RFC 4034 §4, §6.1).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/constants.js';
import { typeBitmapFromWire } from '../../src/wire/rdata/bitmap.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot } from '../../src/zone/snapshot.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { SignatureCache } from '../../src/dnssec/cache.js';
import { attachSigning, prepareZoneDnssec } from '../../src/dnssec/zone-keys.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage, type ParsedMessage, type ParsedRR } from '../helpers/dnsmsg.js';
import { tool, toolPath } from '../helpers/tools.js';

const ldns = tool('ldns-verify-zone');
const ORIGIN = 'walk.test.';

const ZONE = `$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ MX 10 www
@ TXT "apex"
ns1 A 192.0.2.53
www A 192.0.2.1
www AAAA 2001:db8::1
MiXed A 192.0.2.2
a.b.c A 192.0.2.3
*.wild A 192.0.2.4
*.wild TXT "wild"
x.*.wild A 192.0.2.5
alias CNAME www
dn DNAME www
\\000.odd A 192.0.2.6
zz\\255 TXT "high octet"
sub NS ns.sub
ns.sub A 192.0.2.8
secure NS ns.secure
secure DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000
ns.secure A 192.0.2.9
$GENERATE 1-300 host-$ TXT "h$"
$GENERATE 1-40 h$.deep.er AAAA 2001:db8::$
`;

let dir = '';
let engine: QueryEngine;

function ask(name: string, type: number): ParsedMessage {
  const out = engine.handle(buildQuery({ name, type: `TYPE${type}`, id: 1, edns: { udpSize: 65000, do: true } }), { transport: 'tcp', address: '127.0.0.1', port: 1 });
  if (!(out instanceof Uint8Array)) throw new Error('expected a synchronous single answer');
  return parseMessage(out);
}

/** RFC 3597 generic form, which ldns reads for every type: no dependence on our presentation-format printers. */
const generic = (rr: ParsedRR): string => `${rr.owner} ${rr.ttl} IN TYPE${rr.type} \\# ${rr.rdata.length} ${Buffer.from(rr.rdata).toString('hex')}`;
const same = (a: string, b: string): boolean => Name.parse(a).equals(Name.parse(b));

/** Walk the chain from the apex; returns the zone as served (one line per RR) and the chain's owner names. */
function walk(): { lines: string[]; chain: string[] } {
  const lines: string[] = [];
  const chain: string[] = [];
  let name = ORIGIN;
  for (let guard = 0; guard < 1000; guard++) {
    const m = ask(name, RRType.NSEC);
    let nsec = m.answer.find((r) => r.type === RRType.NSEC);
    let found = m.answer;
    if (nsec === undefined) {
      // At a zone cut an NSEC query gets a referral; the cut's NSEC covers `\000`-suffixed first label of the name
      // (it sorts after the whole delegated subtree), so a query for that nonexistent name shows it.
      const [first, ...rest] = Name.parse(name).labels;
      const nx = ask(new Name([first + '\0', ...rest]).toString(), RRType.A);
      const i = nx.authority.findIndex((r) => r.type === RRType.NSEC && same(r.owner, name));
      if (i < 0) throw new Error(`no NSEC for ${name}`);
      nsec = nx.authority[i]!;
      found = nx.authority.slice(i, i + 2);
    }
    chain.push(nsec.owner);
    lines.push(...found.map(generic));
    const next = Name.fromWire(nsec.rdata, 0);
    const types = typeBitmapFromWire(nsec.rdata, next.wireLength).filter((t) => t !== RRType.NSEC && t !== RRType.RRSIG);
    const cut = types.includes(RRType.NS) && !same(name, ORIGIN);
    for (const t of types) {
      const r = ask(name, t);
      if (cut && t === RRType.NS) {
        // A referral: the NS RRset (unsigned, RFC 4035 §2.2) and its glue.
        lines.push(...r.authority.filter((x) => x.type === RRType.NS).map(generic), ...r.additional.map(generic));
        continue;
      }
      const mine = r.answer.filter((x) => same(x.owner, name) && (x.type === t || (x.type === RRType.RRSIG && ((x.rdata[0]! << 8) | x.rdata[1]!) === t)));
      if (!mine.some((x) => x.type === t)) throw new Error(`bitmap of ${name} lists type ${t} but the answer has none: ${r.answer.map(generic).join(" | ")} NSEC ${generic(nsec)}`);
      lines.push(...mine.map(generic));
    }
    name = next.toString();
    if (same(name, ORIGIN)) return { lines, chain };
  }
  throw new Error('the NSEC chain does not return to the apex');
}

function verify(lines: readonly string[], file: string): { code: number | null; out: string } {
  writeFileSync(join(dir, file), `$ORIGIN ${ORIGIN}\n${[...new Set(lines)].join('\n')}\n`);
  const r = spawnSync(toolPath(ldns), ['-V', '3', join(dir, file)], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe.skipIf('skip' in ldns)('denial nsec: the served zone verifies with ldns-verify-zone', () => {
  let served: { lines: string[]; chain: string[] };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-nsec-walk-'));
    const origin = Name.parse(ORIGIN);
    const prep = await prepareZoneDnssec(origin, { mode: 'live', state: 'active', denial: 'nsec', keys: join(dir, 'keys'), validityDays: undefined }, new SignatureCache({ maxBytes: 1 << 24 }));
    const parsed = parseZoneText(ZONE, 'walk.zone', { origin, zonesDir: dir });
    if (parsed.diagnostics.some((d) => d.severity === 'error')) throw new Error(parsed.diagnostics.map((d) => d.message).join('\n'));
    const built = buildSnapshot(origin, prep!.augment(parsed.records));
    if (!built.snapshot) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
    attachSigning(built.snapshot, prep!.signing!);
    const store = new ZoneStore();
    store.publish(new ZoneSet(new Map([[origin.key, { snapshot: built.snapshot, expired: false }]]), 1));
    engine = new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 1000 });
    served = walk();
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the chain holds every name with data and every cut, none of the ENTs or glue, in canonical order', () => {
    // 300 host-N + 40 hN.deep.er + 13 others; not c., b.c., wild., odd., er., deep.er. (ENTs) or ns.sub./ns.secure. (glue).
    expect(served.chain).toHaveLength(353);
    const lower = served.chain.map((n) => n.toLowerCase());
    for (const n of ['walk.test.', 'a.b.c.walk.test.', '*.wild.walk.test.', 'x.*.wild.walk.test.', 'sub.walk.test.', 'secure.walk.test.', '\\000.odd.walk.test.', 'mixed.walk.test.']) expect(lower).toContain(n);
    for (const n of ['c.walk.test.', 'b.c.walk.test.', 'wild.walk.test.', 'odd.walk.test.', 'deep.er.walk.test.', 'ns.sub.walk.test.']) expect(lower).not.toContain(n);
  });

  it('ldns-verify-zone: every signature valid, the NSEC chain complete', () => {
    const r = verify(served.lines, 'served.zone');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Zone is verified and complete/);
  });

  it('negative control: with one NSEC left out, or one signature altered, ldns-verify-zone fails', () => {
    const host7 = served.lines.filter((l) => !/^host-7\.walk\.test\. \d+ IN TYPE47 /i.test(l));
    expect(host7.length).toBe(served.lines.length - 1);
    expect(verify(host7, 'missing-nsec.zone').code).not.toBe(0);
    const i = served.lines.findIndex((l) => /^www\.walk\.test\. \d+ IN TYPE46 /i.test(l));
    const bad = [...served.lines];
    bad[i] = bad[i]!.slice(0, -4) + (bad[i]!.endsWith('0000') ? '1111' : '0000');
    expect(verify(bad, 'bad-sig.zone').code).not.toBe(0);
  });
});
