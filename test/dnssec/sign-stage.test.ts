// Unit tests of the query-time signing stage: RRSIGs by the right key, compact denial NSECs, NSEC3 white lies,
// wildcard handling, referrals, and the DNSSEC-state records added at load.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { Rcode, RRType } from '../../src/wire/constants.js';
import type { SectionEntry } from '../../src/wire/message.js';
import { typeBitmapFromWire } from '../../src/wire/rdata/bitmap.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot, type ZoneSnapshot } from '../../src/zone/snapshot.js';
import { resolve } from '../../src/query/resolve.js';
import { buildResponse } from '../../src/query/answer.js';
import type { Response } from '../../src/wire/response.js';
import { attachSigning, prepareZoneDnssec, type LiveSigning } from '../../src/dnssec/zone-keys.js';
import { signResponse } from '../../src/dnssec/sign-stage.js';
import { SignatureCache } from '../../src/dnssec/cache.js';
import { SigningBudget } from '../../src/dnssec/budget.js';
import { parseRrsig, verifyRRsig } from '../../src/dnssec/rrsig.js';
import { compactNxdomainNsec } from '../../src/dnssec/nsec.js';
import { hashMinusOne, hashPlusOne, nsec3Hash, nsec3Label } from '../../src/dnssec/nsec3.js';
import { cdnskeyDeleteRdata, cdsDeleteRdata, dsRdata } from '../../src/dnssec/ds.js';
import type { DnssecConfig } from '../../src/config/types.js';

const ZONE = `$TTL 300
@ SOA ns1 host 1 7200 3600 1209600 600
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.1
www AAAA 2001:db8::1
a.b.c A 192.0.2.3
*.wild A 192.0.2.4
*.wild TXT "w"
sub NS ns.sub
ns.sub A 192.0.2.8
@ RRSIG SOA 13 1 300 20300101000000 20200101000000 1 example. AAAA
`;

const NOW = Math.floor(Date.now() / 1000);
let dir = '';

async function signedZone(dnssec: DnssecConfig, text = ZONE, cache?: SignatureCache): Promise<{ zone: ZoneSnapshot; signing: LiveSigning | undefined }> {
  const origin = Name.parse('example.');
  const prep = await prepareZoneDnssec(origin, dnssec, cache);
  const parsed = parseZoneText(text, 'z', { origin, zonesDir: '/nonexistent' });
  const built = buildSnapshot(origin, prep!.augment(parsed.records));
  if (!built.snapshot) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
  if (prep!.signing) attachSigning(built.snapshot, prep!.signing);
  return { zone: built.snapshot, signing: prep!.signing?.kind === 'live' ? prep!.signing : undefined };
}

function ask(zone: ZoneSnapshot, qname: string, qtype: number, co = false): Response {
  const r = resolve(zone, Name.parse(qname), qtype);
  return signResponse(r, buildResponse(r), { co, now: NOW });
}

const types = (e: SectionEntry): string => e.owner.toString() + ' ' + e.type;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'apexdns-sign-stage-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compact denial zone (state active)', () => {
  let zone: ZoneSnapshot;
  let s: LiveSigning;
  beforeAll(async () => {
    const z = await signedZone({ mode: 'live', state: 'active', denial: 'compact', keys: join(dir, 'k1'), validityDays: undefined });
    zone = z.zone;
    s = z.signing!;
  });

  it('publishes DNSKEY (KSK 257 + ZSK 256), CDS = DS digest 2 of the KSK, CDNSKEY = KSK; drops file RRSIGs', () => {
    const apex = zone.apex;
    const keys = apex.rrsets.get(RRType.DNSKEY)!.rdata.map((r) => (r[0]! << 8) | r[1]!).sort();
    expect(keys).toEqual([256, 257]);
    expect(Buffer.from(apex.rrsets.get(RRType.CDS)!.rdata[0]!)).toEqual(Buffer.from(dsRdata(zone.origin, s.signer.ksk.dnskeyRdata, 2)));
    expect(Buffer.from(apex.rrsets.get(RRType.CDNSKEY)!.rdata[0]!)).toEqual(Buffer.from(s.signer.ksk.dnskeyRdata));
    expect(apex.rrsets.has(RRType.RRSIG)).toBe(false);
    expect(apex.rrsets.has(RRType.NSEC3PARAM)).toBe(false);
  });

  it('signs a positive answer with the ZSK (labels 2, valid now, inception an hour or more back)', () => {
    const res = ask(zone, 'www.example.', RRType.A);
    expect(res.answer.map(types)).toEqual(['www.example. 1', 'www.example. 46']);
    const sig = res.answer[1]!.rdata[0]!;
    const f = parseRrsig(sig);
    expect([f.typeCovered, f.algorithm, f.labels, f.originalTtl, f.keyTag, f.signer.toString()]).toEqual([1, 13, 2, 300, s.signer.zsk.tag, 'example.']);
    expect(f.inception).toBeLessThanOrEqual(NOW - 3600);
    expect(f.expiration).toBeGreaterThan(NOW + 6 * 86400);
    expect(verifyRRsig(res.answer[0]!, sig, s.signer.zsk.dnskeyRdata, { now: NOW })).toBe(true);
  });

  it('signs DNSKEY, CDS and CDNSKEY with the KSK', () => {
    for (const t of [RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]) {
      const res = ask(zone, 'example.', t);
      const f = parseRrsig(res.answer[1]!.rdata[0]!);
      expect([f.typeCovered, f.keyTag]).toEqual([t, s.signer.ksk.tag]);
      expect(verifyRRsig(res.answer[0]!, res.answer[1]!.rdata[0]!, s.signer.ksk.dnskeyRdata, { now: NOW })).toBe(true);
    }
  });

  it('NXDOMAIN: NOERROR + logical NXDOMAIN, SOA+RRSIG, NSEC at QNAME with {RRSIG, NSEC, NXNAME}; CO restores NXDOMAIN', () => {
    const res = ask(zone, 'Nope.example.', RRType.A);
    expect(res.rcode).toBe(Rcode.NOERROR);
    expect(res.logicalRcode).toBe(Rcode.NXDOMAIN);
    expect(res.authority.map(types)).toEqual(['example. 6', 'example. 46', 'Nope.example. 47', 'Nope.example. 46']);
    const nsec = res.authority[2]!;
    expect(nsec.ttl).toBe(300); // RFC 9077: min(SOA TTL 300, MINIMUM 600)
    expect(Buffer.from(nsec.rdata[0]!)).toEqual(Buffer.from(compactNxdomainNsec(Name.parse('nope.example.'))));
    expect(verifyRRsig(nsec, res.authority[3]!.rdata[0]!, s.signer.zsk.dnskeyRdata, { now: NOW })).toBe(true);
    expect(verifyRRsig(res.authority[0]!, res.authority[1]!.rdata[0]!, s.signer.zsk.dnskeyRdata, { now: NOW })).toBe(true);
    const co = ask(zone, 'nope.example.', RRType.A, true);
    expect([co.rcode, co.logicalRcode]).toEqual([Rcode.NXDOMAIN, Rcode.NXDOMAIN]);
  });

  it('NODATA: NSEC bitmap = types at the name + RRSIG + NSEC (never QTYPE); ENT: {RRSIG, NSEC}', () => {
    const nodata = ask(zone, 'www.example.', RRType.TXT);
    const nsec = nodata.authority[2]!;
    expect(nsec.type).toBe(RRType.NSEC);
    const next = Name.parse('\\000.www.example.').wireLength;
    expect(typeBitmapFromWire(nsec.rdata[0]!, next)).toEqual([RRType.A, RRType.AAAA, RRType.RRSIG, RRType.NSEC]);
    const ent = ask(zone, 'b.c.example.', RRType.A);
    expect(typeBitmapFromWire(ent.authority[2]!.rdata[0]!, Name.parse('\\000.b.c.example.').wireLength)).toEqual([RRType.RRSIG, RRType.NSEC]);
    expect(ent.rcode).toBe(Rcode.NOERROR);
    expect(ent.logicalRcode).toBeUndefined();
  });

  it('wildcard: expansion signed as if it existed (labels = QNAME labels); wildcard NODATA has the wildcard types', () => {
    const res = ask(zone, 'x.y.wild.example.', RRType.A);
    expect(res.answer.map(types)).toEqual(['x.y.wild.example. 1', 'x.y.wild.example. 46']);
    expect(parseRrsig(res.answer[1]!.rdata[0]!).labels).toBe(4);
    expect(verifyRRsig(res.answer[0]!, res.answer[1]!.rdata[0]!, s.signer.zsk.dnskeyRdata, { now: NOW })).toBe(true);
    expect(res.authority).toEqual([]);
    const nd = ask(zone, 'x.wild.example.', RRType.MX);
    expect(nd.authority[2]!.owner.toString()).toBe('x.wild.example.');
    expect(typeBitmapFromWire(nd.authority[2]!.rdata[0]!, Name.parse('\\000.x.wild.example.').wireLength)).toEqual([RRType.A, RRType.TXT, RRType.RRSIG, RRType.NSEC]);
  });

  it('insecure referral: NS unsigned, NSEC at the cut with {NS, RRSIG, NSEC}, glue unsigned', () => {
    const res = ask(zone, 'www.sub.example.', RRType.A);
    expect(res.aa).toBe(false);
    expect(res.authority.map(types)).toEqual(['sub.example. 2', 'sub.example. 47', 'sub.example. 46']);
    expect(typeBitmapFromWire(res.authority[1]!.rdata[0]!, Name.parse('\\000.sub.example.').wireLength)).toEqual([RRType.NS, RRType.RRSIG, RRType.NSEC]);
    expect(res.additional.map(types)).toEqual(['ns.sub.example. 1']);
  });
});

describe('nsec denial zone (the NSEC chain, signed at query time)', () => {
  // Chain in canonical order (RFC 4034 §6.1): example. → a.b.c.example. → ns1.example. → sub.example. →
  // *.wild.example. → www.example. → (back to) example.; the ENTs c., b.c., wild. and the glue ns.sub. have no NSEC.
  let zone: ZoneSnapshot;
  let s: LiveSigning;
  beforeAll(async () => {
    const z = await signedZone({ mode: 'live', state: 'active', denial: 'nsec', keys: join(dir, 'k-nsec'), validityDays: undefined }, ZONE, new SignatureCache({ maxBytes: 1 << 20 }));
    zone = z.zone;
    s = z.signing!;
  });
  const nextOf = (e: SectionEntry): string => Name.fromWire(e.rdata[0]!, 0).toString();
  const bitmapOf = (e: SectionEntry): number[] => typeBitmapFromWire(e.rdata[0]!, Name.fromWire(e.rdata[0]!, 0).wireLength);
  const verified = (section: readonly SectionEntry[]): void => {
    for (let i = 0; i < section.length; i += 2) {
      expect(section[i + 1]!.type).toBe(RRType.RRSIG);
      expect(verifyRRsig(section[i]!, section[i + 1]!.rdata[0]!, s.signer.zsk.dnskeyRdata, { now: NOW })).toBe(true);
    }
  };

  it('NXDOMAIN keeps its rcode: SOA, the NSEC covering QNAME and the NSEC covering *.closest-encloser', () => {
    const res = ask(zone, 'nope.example.', RRType.A);
    expect([res.rcode, res.logicalRcode]).toEqual([Rcode.NXDOMAIN, undefined]);
    expect(res.authority.map(types)).toEqual(['example. 6', 'example. 46', 'a.b.c.example. 47', 'a.b.c.example. 46', 'example. 47', 'example. 46']);
    expect(nextOf(res.authority[2]!)).toBe('ns1.example.');
    expect(nextOf(res.authority[4]!)).toBe('a.b.c.example.');
    expect(bitmapOf(res.authority[4]!)).toEqual([RRType.NS, RRType.SOA, RRType.RRSIG, RRType.NSEC, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);
    expect(res.authority[2]!.ttl).toBe(300);
    verified(res.authority);
    expect(zone.apex.rrsets.has(RRType.NSEC3PARAM)).toBe(false);
  });

  it('the same NSEC (and, through the signature cache, the same signature) answers every name it covers', () => {
    const a = ask(zone, 'nope.example.', RRType.A).authority;
    const b = ask(zone, 'mmm.example.', RRType.AAAA).authority;
    expect(Buffer.from(b[2]!.rdata[0]!)).toEqual(Buffer.from(a[2]!.rdata[0]!));
    expect(Buffer.from(b[3]!.rdata[0]!)).toEqual(Buffer.from(a[3]!.rdata[0]!));
  });

  it('NODATA: the NSEC at QNAME without the QTYPE bit; an ENT: the NSEC before it, whose next name is below it', () => {
    const nd = ask(zone, 'www.example.', RRType.TXT);
    expect(nd.authority.map(types)).toEqual(['example. 6', 'example. 46', 'www.example. 47', 'www.example. 46']);
    expect(nextOf(nd.authority[2]!)).toBe('example.');
    expect(bitmapOf(nd.authority[2]!)).toEqual([RRType.A, RRType.AAAA, RRType.RRSIG, RRType.NSEC]);
    verified(nd.authority);
    const ent = ask(zone, 'b.c.example.', RRType.A);
    expect(ent.rcode).toBe(Rcode.NOERROR);
    expect(ent.authority.map(types)).toEqual(['example. 6', 'example. 46', 'example. 47', 'example. 46']);
    expect(nextOf(ent.authority[2]!)).toBe('a.b.c.example.');
  });

  it('wildcard answer: the wildcard signature (labels 2, shared by every expansion) plus the NSEC covering QNAME', () => {
    const res = ask(zone, 'x.y.wild.example.', RRType.A);
    expect(res.answer.map(types)).toEqual(['x.y.wild.example. 1', 'x.y.wild.example. 46']);
    expect(parseRrsig(res.answer[1]!.rdata[0]!).labels).toBe(2);
    verified(res.answer);
    expect(res.authority.map(types)).toEqual(['*.wild.example. 47', '*.wild.example. 46']);
    expect(nextOf(res.authority[0]!)).toBe('www.example.');
    verified(res.authority);
    const other = ask(zone, 'z.wild.example.', RRType.A);
    expect(Buffer.from(other.answer[1]!.rdata[0]!)).toEqual(Buffer.from(res.answer[1]!.rdata[0]!));
  });

  it('wildcard NODATA: the covering NSEC and the wildcard NSEC are one record here, sent once', () => {
    const nd = ask(zone, 'x.wild.example.', RRType.MX);
    expect(nd.authority.map(types)).toEqual(['example. 6', 'example. 46', '*.wild.example. 47', '*.wild.example. 46']);
    expect(bitmapOf(nd.authority[2]!)).toEqual([RRType.A, RRType.TXT, RRType.RRSIG, RRType.NSEC]);
  });

  it('a query for type NSEC gets the chain NSEC as its answer at a chain name; an ENT gets the covering NODATA', () => {
    const r = signResponse(resolve(zone, Name.parse('www.example.'), RRType.NSEC), buildResponse(resolve(zone, Name.parse('www.example.'), RRType.NSEC)), { co: false, now: NOW, qtype: RRType.NSEC });
    expect([r.rcode, r.answer.map(types), r.authority]).toEqual([Rcode.NOERROR, ['www.example. 47', 'www.example. 46'], []]);
    const entQ = resolve(zone, Name.parse('c.example.'), RRType.NSEC);
    const ent = signResponse(entQ, buildResponse(entQ), { co: false, now: NOW, qtype: RRType.NSEC });
    expect([ent.answer, ent.authority.map(types)]).toEqual([[], ['example. 6', 'example. 46', 'example. 47', 'example. 46']]);
  });

  it('insecure referral: NS unsigned, the chain NSEC at the cut with {NS, RRSIG, NSEC}, glue unsigned', () => {
    const res = ask(zone, 'www.sub.example.', RRType.A);
    expect(res.authority.map(types)).toEqual(['sub.example. 2', 'sub.example. 47', 'sub.example. 46']);
    expect(nextOf(res.authority[1]!)).toBe('*.wild.example.');
    expect(bitmapOf(res.authority[1]!)).toEqual([RRType.NS, RRType.RRSIG, RRType.NSEC]);
    expect(res.additional.map(types)).toEqual(['ns.sub.example. 1']);
  });
});

describe('nsec3 denial zone', () => {
  let zone: ZoneSnapshot;
  let s: LiveSigning;
  const h = (n: string): Uint8Array => nsec3Hash(Name.parse(n), new Uint8Array(0), 0);
  beforeAll(async () => {
    const z = await signedZone({ mode: 'live', state: 'active', denial: 'nsec3', keys: join(dir, 'k2'), validityDays: 3 });
    zone = z.zone;
    s = z.signing!;
  });

  it('NSEC3PARAM 1 0 0 - at the apex', () => {
    expect([...zone.apex.rrsets.get(RRType.NSEC3PARAM)!.rdata[0]!]).toEqual([1, 0, 0, 0, 0]);
  });

  it('NXDOMAIN: matching NSEC3 for the closest encloser, white-lie covers of the next closer and *.CE', () => {
    const res = ask(zone, 'a.nope.example.', RRType.A);
    expect(res.rcode).toBe(Rcode.NXDOMAIN);
    const n3 = res.authority.filter((e) => e.type === RRType.NSEC3);
    expect(n3.map((e) => e.owner.labels[0])).toEqual([
      nsec3Label(h('example.')),
      nsec3Label(hashMinusOne(h('nope.example.'))),
      nsec3Label(hashMinusOne(h('*.example.'))),
    ]);
    // Covering record: next hashed owner = H + 1, empty bitmap; params 1 0 0 -.
    const cover = n3[1]!.rdata[0]!;
    expect([...cover.subarray(0, 6)]).toEqual([1, 0, 0, 0, 0, 20]);
    expect(Buffer.from(cover.subarray(6, 26))).toEqual(Buffer.from(hashPlusOne(h('nope.example.'))));
    expect(cover.length).toBe(26);
    // Matching record of the apex lists its real types.
    const match = n3[0]!.rdata[0]!;
    expect(typeBitmapFromWire(match, 26)).toEqual([RRType.NS, RRType.SOA, RRType.RRSIG, RRType.DNSKEY, RRType.NSEC3PARAM, RRType.CDS, RRType.CDNSKEY]);
    expect(res.authority.filter((e) => e.type === RRType.RRSIG).length).toBe(4);
    const exp = parseRrsig(res.authority[1]!.rdata[0]!);
    expect(exp.expiration - NOW).toBeLessThanOrEqual(3 * 86400 + 9 * 3600);
  });

  it('wildcard answer: RRSIG labels of the wildcard (2) and a cover of the next closer name', () => {
    const res = ask(zone, 'x.y.wild.example.', RRType.A);
    const f = parseRrsig(res.answer[1]!.rdata[0]!);
    expect(f.labels).toBe(2);
    expect(verifyRRsig(res.answer[0]!, res.answer[1]!.rdata[0]!, s.signer.zsk.dnskeyRdata, { now: NOW })).toBe(true);
    expect(res.authority.map((e) => `${e.owner.labels[0]} ${e.type}`)).toEqual([
      `${nsec3Label(hashMinusOne(h('y.wild.example.')))} 50`,
      `${nsec3Label(hashMinusOne(h('y.wild.example.')))} 46`,
    ]);
  });

  it('insecure delegation: matching NSEC3 of the cut with only NS', () => {
    const res = ask(zone, 'sub.example.', RRType.DS);
    const n3 = res.authority.find((e) => e.type === RRType.NSEC3)!;
    expect(n3.owner.labels[0]).toBe(nsec3Label(h('sub.example.')));
    expect(typeBitmapFromWire(n3.rdata[0]!, 26)).toEqual([RRType.NS]);
  });
});

describe('DNSSEC states', () => {
  it('disabled: DNSKEY kept, CDS/CDNSKEY are the RFC 8078 delete records', async () => {
    const { zone } = await signedZone({ mode: 'live', state: 'disabled', denial: 'compact', keys: join(dir, 'k3'), validityDays: undefined });
    expect(zone.apex.rrsets.get(RRType.DNSKEY)!.rdata.length).toBe(2);
    expect([...zone.apex.rrsets.get(RRType.CDS)!.rdata[0]!]).toEqual([...cdsDeleteRdata]);
    expect([...zone.apex.rrsets.get(RRType.CDNSKEY)!.rdata[0]!]).toEqual([0, 0, 3, 0, 0]);
    expect([...cdnskeyDeleteRdata]).toEqual([0, 0, 3, 0, 0]);
  });

  it('deleted: no DNSSEC records (file DNSKEY/RRSIG stripped), DNSKEY query is NODATA without signatures', async () => {
    const text = `${ZONE}@ DNSKEY 256 3 13 ${Buffer.alloc(64, 7).toString('base64')}\n`;
    const { zone, signing } = await signedZone({ mode: 'live', state: 'deleted', denial: 'compact', keys: join(dir, 'k4'), validityDays: undefined }, text);
    expect(signing).toBeUndefined();
    expect(zone.apex.types).toEqual([RRType.NS, RRType.SOA]);
    const res = ask(zone, 'example.', RRType.DNSKEY);
    expect(res.answer).toEqual([]);
    expect(res.authority.map(types)).toEqual(['example. 6']);
  });

  it('multi-signer: a foreign DNSKEY in the file is merged into the DNSKEY RRset', async () => {
    const foreign = Buffer.alloc(64, 9);
    const text = `${ZONE}@ 3600 DNSKEY 256 3 13 ${foreign.toString('base64')}\n`;
    const { zone } = await signedZone({ mode: 'live', state: 'active', denial: 'compact', keys: join(dir, 'k5'), validityDays: undefined }, text);
    const set = zone.apex.rrsets.get(RRType.DNSKEY)!;
    expect(set.rdata.length).toBe(3);
    expect(set.rdata.some((r) => Buffer.from(r.subarray(4)).equals(foreign))).toBe(true);
  });
});

describe('signing budget (random-subdomain floods; src/dnssec/budget.ts)', () => {
  const ms = 1_000_000;
  const budgeted = (zone: ZoneSnapshot, qname: string, qtype: number, budget: SigningBudget): Response => {
    const r = resolve(zone, Name.parse(qname), qtype);
    return signResponse(r, buildResponse(r), { co: false, now: NOW, budget });
  };

  it('refills per second and never holds more than one second of tokens', () => {
    const b = new SigningBudget(3, ms);
    expect([b.take(ms), b.take(ms), b.take(ms), b.take(ms)]).toEqual([true, true, true, false]);
    expect(b.take(ms + 333)).toBe(false); // 0.999 of a token
    expect(b.take(ms + 334)).toBe(true);
    expect(b.take(ms + 10_000)).toBe(true);
    expect([b.take(ms + 10_000), b.take(ms + 10_000), b.take(ms + 10_000)]).toEqual([true, true, false]);
    expect(b.refused).toBe(3);
  });

  for (const denial of ['compact', 'nsec3'] as const) {
    it(`${denial}: NXDOMAIN and wildcard answers draw one-off signatures; over the budget the answer is an empty TC`, async () => {
      const { zone } = await signedZone({ mode: 'live', state: 'active', denial, keys: join(dir, `kb-${denial}`), validityDays: undefined });
      // A budget that never refills within the test (rate 2 per second, clock frozen at take time).
      const b = new SigningBudget(2, Date.now() + 3_600_000);
      const first = budgeted(zone, 'nx1.example.', RRType.A, b);
      expect(first.truncated).toBeUndefined();
      expect(first.authority.some((e) => e.type === RRType.RRSIG)).toBe(true);
      const second = budgeted(zone, 'x.wild.example.', RRType.A, b);
      expect(second.truncated).toBeUndefined();
      expect(second.answer.map(types)).toEqual(['x.wild.example. 1', 'x.wild.example. 46']);
      const over = budgeted(zone, 'nx2.example.', RRType.A, b);
      expect(over.truncated).toBe(true);
      expect([over.answer.length, over.authority.length, over.additional.length]).toEqual([0, 0, 0]);
      expect(budgeted(zone, 'y.wild.example.', RRType.TXT, b).truncated).toBe(true);
      // Answers about existing names use cached or cacheable signatures only: never refused.
      const www = budgeted(zone, 'www.example.', RRType.A, b);
      expect(www.truncated).toBeUndefined();
      expect(www.answer.map(types)).toEqual(['www.example. 1', 'www.example. 46']);
      expect(budgeted(zone, 'www.example.', RRType.TXT, b).truncated).toBeUndefined();
      expect(b.refused).toBe(2);
    });
  }

  it('nsec: the chain NSECs are cacheable, so a flood needs no one-off signature and is never refused', async () => {
    const { zone } = await signedZone({ mode: 'live', state: 'active', denial: 'nsec', keys: join(dir, 'kb-nsec'), validityDays: undefined }, ZONE, new SignatureCache({ maxBytes: 1 << 20 }));
    const b = new SigningBudget(1, Date.now() + 3_600_000);
    for (let i = 0; i < 5; i++) expect(budgeted(zone, `nx${i}.example.`, RRType.A, b).truncated).toBeUndefined();
    expect(b.refused).toBe(0);
  });
});
