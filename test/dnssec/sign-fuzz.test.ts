// Seeded random queries (names built from the zone's labels and odd ones, every kind of type, CO on and off) against
// a live-signed zone in each denial mode: the engine never throws, every answer decodes strictly, every RRSIG in it
// verifies against the zone's DNSKEYs, and in nsec mode every NXDOMAIN's NSECs cover what they must.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/constants.js';
import type { DenialMode } from '../../src/config/types.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot } from '../../src/zone/snapshot.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { SignatureCache } from '../../src/dnssec/cache.js';
import { attachSigning, prepareZoneDnssec } from '../../src/dnssec/zone-keys.js';
import { verifyRRsig } from '../../src/dnssec/rrsig.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage, type ParsedRR } from '../helpers/dnsmsg.js';
import { compareCanonical } from '../helpers/canonical.js';
import { prng } from '../helpers/prng.js';

const ORIGIN = 'fz.test.';
const ZONE = `$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ MX 10 www
ns1 A 192.0.2.53
www A 192.0.2.1
www AAAA 2001:db8::1
a.b.c A 192.0.2.3
*.wild A 192.0.2.4
*.wild TXT "wild"
x.*.wild A 192.0.2.5
alias CNAME www
wcname CNAME foo.wild
loop1 CNAME loop2
loop2 CNAME loop1
dn DNAME www
sub NS ns.sub
ns.sub A 192.0.2.8
secure NS ns.secure
secure DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000
`;
const LABELS = ['www', 'WWW', 'a', 'b', 'c', 'wild', '*', 'x', 'alias', 'wcname', 'loop1', 'dn', 'sub', 'ns', 'secure', 'nope', 'ns1', '\\000', '\\255', 'Zz'];
const TYPES = ['A', 'AAAA', 'TXT', 'MX', 'NS', 'SOA', 'CNAME', 'DNAME', 'DS', 'DNSKEY', 'CDS', 'CDNSKEY', 'NSEC', 'NSEC3', 'NSEC3PARAM', 'RRSIG', 'ANY', 'HTTPS', 'TYPE65280'];
const COUNT = 1500;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'apexdns-sign-fuzz-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function engineFor(denial: DenialMode): Promise<{ engine: QueryEngine; keys: readonly Uint8Array[] }> {
  const origin = Name.parse(ORIGIN);
  const prep = await prepareZoneDnssec(origin, { mode: 'live', state: 'active', denial, keys: join(dir, denial), validityDays: undefined }, new SignatureCache({ maxBytes: 1 << 22 }));
  const built = buildSnapshot(origin, prep!.augment(parseZoneText(ZONE, 'fz.zone', { origin, zonesDir: dir }).records));
  if (!built.snapshot) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
  attachSigning(built.snapshot, prep!.signing!);
  const store = new ZoneStore();
  store.publish(new ZoneSet(new Map([[origin.key, { snapshot: built.snapshot, expired: false }]]), 1));
  return { engine: new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 200 }), keys: built.snapshot.apex.rrsets.get(RRType.DNSKEY)!.rdata };
}

const NOW = Math.floor(Date.now() / 1000);
const covered = (rr: ParsedRR): number => (rr.rdata[0]! << 8) | rr.rdata[1]!;

/** Every RRSIG in `section` verifies over the RRs of its owner and covered type in that section. */
function checkSignatures(section: readonly ParsedRR[], keys: readonly Uint8Array[], what: string): void {
  for (const sig of section.filter((r) => r.type === RRType.RRSIG)) {
    const owner = Name.parse(sig.owner);
    const set = section.filter((r) => r.type === covered(sig) && Name.parse(r.owner).equals(owner));
    expect(set.length, `${what}: RRSIG ${sig.owner} covers type ${covered(sig)} with nothing beside it`).toBeGreaterThan(0);
    const input = { owner, type: covered(sig), class: 1, ttl: set[0]!.ttl, rdata: set.map((r) => r.rdata) };
    expect(keys.some((k) => verifyRRsig(input, sig.rdata, k, { now: NOW })), `${what}: RRSIG over ${sig.owner}/${covered(sig)}`).toBe(true);
  }
}

/** RFC 4034 §4.1.1: the NSEC at `owner` with next name `next` covers `name` (owner < name < next, or past the last). */
function covers(nsec: ParsedRR, name: Name): boolean {
  const owner = Name.parse(nsec.owner);
  const next = Name.fromWire(nsec.rdata, 0);
  const apexNext = next.equals(Name.parse(ORIGIN));
  return compareCanonical(owner, name) < 0 && (apexNext || compareCanonical(name, next) < 0);
}

describe.each(['compact', 'nsec3', 'nsec'] as const)('denial %s: seeded random queries', (denial) => {
  it(`${COUNT} queries: no throw, strict decode, every RRSIG verifies; nsec NXDOMAINs carry covering NSECs`, async () => {
    const { engine, keys } = await engineFor(denial);
    const rnd = prng(0x51c0 + denial.length);
    const int = (n: number): number => Math.floor(rnd() * n);
    let nx = 0;
    for (let i = 0; i < COUNT; i++) {
      const labels = Array.from({ length: int(4) }, () => LABELS[int(LABELS.length)]!);
      const qname = [...labels, ORIGIN].join('.').replace(/^\./, '');
      const type = TYPES[int(TYPES.length)]!;
      const what = `${qname} ${type}`;
      const out = engine.handle(buildQuery({ name: qname, type, id: i & 0xffff, edns: { udpSize: 4096, do: true, co: rnd() < 0.3 } }), { transport: 'tcp', address: '127.0.0.1', port: 1 });
      if (!(out instanceof Uint8Array)) throw new Error(`${what}: no synchronous answer`);
      const m = parseMessage(out);
      const rcode = m.flags & 0xf;
      expect([0, 2, 3, 5], what).toContain(rcode);
      checkSignatures(m.answer, keys, what);
      checkSignatures(m.authority, keys, what);
      if (denial === 'nsec' && rcode === 3) {
        nx++;
        // After a CNAME/DNAME chain the NXDOMAIN is about the last target (RFC 6672 §3.2, RFC 1034 §4.3.2).
        const cnames = m.answer.filter((r) => r.type === RRType.CNAME);
        const q = cnames.length > 0 ? Name.fromWire(cnames[cnames.length - 1]!.rdata, 0) : Name.parse(qname);
        const nsecs = m.authority.filter((r) => r.type === RRType.NSEC);
        expect(nsecs.some((r) => covers(r, q)), `${what}: no NSEC covers the name`).toBe(true);
      }
    }
    if (denial === 'nsec') expect(nx).toBeGreaterThan(50);
  }, 60_000);
});
