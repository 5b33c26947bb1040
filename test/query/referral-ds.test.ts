// Referral DNSSEC data (RFC 4035 §3.1.4) and parent-side types at a cut (RFC 4035 §2.4, §3.1.4.1) through the whole
// query pipeline: unsigned, live-signed (compact, nsec, nsec3) and pre-signed parents, DO=0 and DO=1, every path
// that reaches a referral.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { Flag, Rcode, RRType } from '../../src/wire/constants.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot } from '../../src/zone/snapshot.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { attachSigning, prepareZoneDnssec } from '../../src/dnssec/zone-keys.js';
import { SignatureCache } from '../../src/dnssec/cache.js';
import type { DnssecConfig } from '../../src/config/types.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage, type ParsedMessage, type ParsedRR } from '../helpers/dnsmsg.js';

const DS_HEX = 'a'.repeat(64);
const ZONE = `$TTL 300
@ SOA ns1 host 1 7200 3600 1209600 600
@ NS ns1
ns1 A 192.0.2.53
* TXT "apex wildcard"
sub NS ns.sub
sub DS 12345 13 2 ${DS_HEX}
ns.sub A 192.0.2.8
nods NS ns.nods
ns.nods A 192.0.2.9
to-sub CNAME www.sub
*.w CNAME host.sub
sib NS ns1
`;
/** The same zone as a primary would sign it ahead of time: stored RRSIGs (contents never checked here) and NSECs. */
const SIG = (covered: string, labels: number): string => `RRSIG ${covered} 13 ${labels} 300 20360101000000 20260101000000 4242 example. AAAA`;
const PRESIGNED = `${ZONE}@ ${SIG('SOA', 1)}
@ ${SIG('NS', 1)}
@ NSEC *.example. NS SOA RRSIG NSEC
@ ${SIG('NSEC', 1)}
* NSEC nods.example. TXT RRSIG NSEC
* ${SIG('TXT', 1)}
* ${SIG('NSEC', 1)}
nods NSEC ns1.example. NS RRSIG NSEC
nods ${SIG('NSEC', 2)}
ns1 NSEC sib.example. A RRSIG NSEC
ns1 ${SIG('A', 2)}
ns1 ${SIG('NSEC', 2)}
sib NSEC sub.example. NS RRSIG NSEC
sib ${SIG('NSEC', 2)}
sub NSEC to-sub.example. NS DS RRSIG NSEC
sub ${SIG('DS', 2)}
sub ${SIG('NSEC', 2)}
to-sub NSEC *.w.example. CNAME RRSIG NSEC
to-sub ${SIG('CNAME', 2)}
to-sub ${SIG('NSEC', 2)}
*.w NSEC example. CNAME RRSIG NSEC
*.w ${SIG('CNAME', 2)}
*.w ${SIG('NSEC', 2)}
`;

type Kind = 'unsigned' | 'compact' | 'nsec' | 'nsec3' | 'presigned';
const KINDS: readonly Kind[] = ['unsigned', 'compact', 'nsec', 'nsec3', 'presigned'];
const CTX = { transport: 'tcp', address: '127.0.0.1', port: 1 } as const;

let dir = '';
const engines = new Map<Kind, QueryEngine>();

async function engineFor(kind: Kind, presignedText = PRESIGNED): Promise<QueryEngine> {
  const origin = Name.parse('example.');
  const text = kind === 'presigned' ? presignedText : ZONE;
  let records = parseZoneText(text, 'ref.zone', { origin, zonesDir: dir }).records;
  let prep: Awaited<ReturnType<typeof prepareZoneDnssec>> | undefined;
  if (kind !== 'unsigned') {
    const cfg: DnssecConfig = kind === 'presigned' ? { mode: 'presigned' } : { mode: 'live', state: 'active', denial: kind, keys: join(dir, kind), validityDays: undefined };
    prep = await prepareZoneDnssec(origin, cfg, new SignatureCache({ maxBytes: 1 << 20 }));
    records = prep!.augment(records);
  }
  const built = buildSnapshot(origin, records);
  if (!built.snapshot) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
  if (prep?.signing) attachSigning(built.snapshot, prep.signing);
  const store = new ZoneStore();
  store.publish(new ZoneSet(new Map([[origin.key, { snapshot: built.snapshot, expired: false }]]), 1));
  // The answer cache is on, so a second identical query exercises the cached path too.
  return new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 100 });
}

function ask(kind: Kind, name: string, type: string, dnssecOk: boolean): ParsedMessage {
  const bytes = buildQuery({ name, type, id: 7, edns: { udpSize: 4096, do: dnssecOk } });
  const engine = engines.get(kind)!;
  const first = engine.handle(bytes, CTX);
  const again = engine.handle(bytes, CTX);
  if (!(first instanceof Uint8Array) || !(again instanceof Uint8Array)) throw new Error('no synchronous answer');
  expect(Buffer.from(again)).toEqual(Buffer.from(first));
  return parseMessage(first);
}

const covered = (rr: ParsedRR): number => (rr.rdata[0]! << 8) | rr.rdata[1]!;
/** The authority section as "owner TYPE" (RRSIGs as "owner RRSIG/covered"), in order. */
const shape = (rrs: readonly ParsedRR[]): string[] => rrs.map((r) => `${r.owner.toLowerCase()} ${r.type === RRType.RRSIG ? `RRSIG/${covered(r)}` : r.type}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'apexdns-referral-ds-'));
  for (const k of KINDS) engines.set(k, await engineFor(k));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every way a query reaches the `sub` cut: [qname, qtype, answer-section types (the chain before the cut)]. */
const PATHS: readonly (readonly [string, string, readonly number[]])[] = [
  ['www.sub.example', 'A', []],
  ['sub.example', 'NS', []],
  ['sub.example', 'A', []],
  ['sub.example', 'ANY', []],
  ['www.sub.example', 'ANY', []],
  ['WwW.SuB.ExAmPlE', 'AAAA', []],
  ['a.b.c.d.e.f.sub.example', 'TXT', []],
  // the apex wildcard `*` covers no name at or below the cut (RFC 4592 §2.2.2: the cut stops synthesis)
  ['nothing.sub.example', 'TXT', []],
  ['to-sub.example', 'A', [RRType.CNAME]],
  ['To-SuB.example', 'MX', [RRType.CNAME]],
  ['x.w.example', 'A', [RRType.CNAME]],
];

describe('referrals carry DS only for DO=1 from a signed zone (RFC 4035 §3.1.4)', () => {
  for (const [name, type, chain] of PATHS) {
    it(`${name} ${type}`, () => {
      for (const kind of KINDS) {
        for (const dnssecOk of [false, true]) {
          const what = `${kind} DO=${dnssecOk ? 1 : 0} ${name} ${type}`;
          const m = ask(kind, name, type, dnssecOk);
          expect(m.rcode, what).toBe(Rcode.NOERROR);
          // RFC 1034 §4.3.2: AA only when a CNAME chain from authoritative data came first.
          expect((m.flags & Flag.AA) !== 0, what).toBe(chain.length > 0);
          expect(m.answer.filter((r) => r.type !== RRType.RRSIG).map((r) => r.type), what).toEqual(chain);
          const signedAnswer = dnssecOk && kind !== 'unsigned';
          // "When returning a referral, ... a security-aware name server ... MUST include the DS RRset and its
          // RRSIGs in the authority section" applies to DO=1 from a signed zone only (§3.1.4, §3.1: "only if DO").
          const want = signedAnswer ? ['sub.example. 2', 'sub.example. 43', 'sub.example. RRSIG/43'] : ['sub.example. 2'];
          // A wildcard-synthesized CNAME also proves that QNAME does not exist (RFC 4035 §3.1.3.3): NSEC/NSEC3 elsewhere.
          const proofs = (r: ParsedRR): boolean => !(chain.length > 0 && name.startsWith('x.w') && (r.type === RRType.NSEC || r.type === RRType.NSEC3 || (r.type === RRType.RRSIG && covered(r) !== RRType.DS)));
          expect(shape(m.authority.filter(proofs)), what).toEqual(want);
          expect(m.additional.filter((r) => r.type === RRType.A).map((r) => r.owner.toLowerCase()), what).toEqual(['ns.sub.example.']);
          if (!signedAnswer) expect([...m.answer, ...m.authority, ...m.additional].some((r) => r.type === RRType.RRSIG || r.type === RRType.DS), what).toBe(false);
        }
      }
    });
  }

  it('an insecure delegation: the NSEC/NSEC3 proof of no DS for DO=1 to a signed zone, nothing otherwise', () => {
    const proofType: Record<Kind, number | undefined> = { unsigned: undefined, compact: RRType.NSEC, nsec: RRType.NSEC, nsec3: RRType.NSEC3, presigned: RRType.NSEC };
    for (const kind of KINDS) {
      for (const dnssecOk of [false, true]) {
        const what = `${kind} DO=${dnssecOk ? 1 : 0}`;
        const m = ask(kind, 'host.nods.example', 'A', dnssecOk);
        const p = dnssecOk ? proofType[kind] : undefined;
        expect(m.authority.filter((r) => r.type === RRType.NS).map((r) => r.owner), what).toEqual(['nods.example.']);
        expect(m.authority.some((r) => r.type === RRType.DS), what).toBe(false);
        const proofs = m.authority.filter((r) => r.type === RRType.NSEC || r.type === RRType.NSEC3);
        expect(proofs.map((r) => r.type), what).toEqual(p === undefined ? [] : [p]);
        expect(m.authority.filter((r) => r.type === RRType.RRSIG).map(covered), what).toEqual(p === undefined ? [] : [p]);
      }
    }
  });
});

describe('referral additional data (RFC 4035 §3.1.1)', () => {
  it('an address of an NS name in the parent\'s own authoritative data keeps its RRSIG for DO=1; glue below a cut has none', () => {
    for (const kind of KINDS) {
      for (const dnssecOk of [false, true]) {
        const what = `${kind} DO=${dnssecOk ? 1 : 0}`;
        // "When placing a signed RRset in the Additional section, the name server MUST also place its RRSIG RRs in
        // the Additional section" (RFC 4035 §3.1.1): ns1.example. is signed parent data, not glue (Knot and NSD
        // send its RRSIG in the referral).
        const m = ask(kind, 'host.sib.example', 'A', dnssecOk);
        expect(m.flags & Flag.AA, what).toBe(0);
        expect(shape(m.additional), what).toEqual(dnssecOk && kind !== 'unsigned' ? ['ns1.example. 1', 'ns1.example. RRSIG/1'] : ['ns1.example. 1']);
        // In-domain glue below the cut is not authoritative and is never signed (RFC 4035 §2.2).
        const g = ask(kind, 'www.sub.example', 'A', dnssecOk);
        expect(shape(g.additional), what).toEqual(['ns.sub.example. 1']);
      }
    }
  });
});

describe('DS and NSEC at a cut are answered by the parent (RFC 4035 §2.4, §3.1.4.1)', () => {
  it('DS at the cut: an authoritative answer, signed for DO=1', () => {
    for (const kind of KINDS) {
      for (const dnssecOk of [false, true]) {
        const what = `${kind} DO=${dnssecOk ? 1 : 0}`;
        const m = ask(kind, 'SUB.example', 'DS', dnssecOk);
        expect(m.flags & Flag.AA, what).toBe(Flag.AA);
        expect(shape(m.answer), what).toEqual(dnssecOk && kind !== 'unsigned' ? ['sub.example. 43', 'sub.example. RRSIG/43'] : ['sub.example. 43']);
        expect(m.authority.some((r) => r.type === RRType.NS), what).toBe(false);
      }
    }
  });

  it('NSEC at the cut of an unsigned parent: the referral, as Knot, BIND and NSD send it', () => {
    for (const dnssecOk of [false, true]) {
      const m = ask('unsigned', 'sub.example', 'NSEC', dnssecOk);
      expect(m.flags & Flag.AA).toBe(0);
      expect(shape(m.authority)).toEqual(['sub.example. 2']);
    }
  });

  it('NSEC at the cut of an NSEC3-signed parent: the referral (no NSEC exists there), as Knot, BIND and NSD send it', async () => {
    // RFC 5155 §7.1: an NSEC3 zone holds no NSEC records, so nothing at the cut is the parent's answer to QTYPE NSEC
    // (RFC 1034 §4.3.2 step 3b: a referral); DS is the only type always answered by the parent (RFC 4035 §3.1.4.1).
    // A zone signed ahead of time with NSEC3 (its hashes are never checked here: only the cut matters).
    const presigned3 = `${ZONE}@ NSEC3PARAM 1 0 0 -
@ ${SIG('SOA', 1)}
@ ${SIG('NS', 1)}
sub ${SIG('DS', 2)}
` +
      `0p9mhaveqvm6t7vbl5lop2u3t2rp3tom NSEC3 1 0 0 - 0p9mhaveqvm6t7vbl5lop2u3t2rp3ton NS SOA RRSIG NSEC3PARAM
`;
    const engines3: readonly [string, QueryEngine][] = [['nsec3', engines.get('nsec3')!], ['presigned nsec3', await engineFor('presigned', presigned3)]];
    for (const [what0, engine] of engines3) {
      for (const dnssecOk of [false, true]) {
        const what = `${what0} DO=${dnssecOk ? 1 : 0}`;
        const m = parseMessage(engine.handle(buildQuery({ name: 'sub.example', type: 'NSEC', id: 7, edns: { udpSize: 4096, do: dnssecOk } }), CTX) as Uint8Array);
        expect(m.flags & Flag.AA, what).toBe(0);
        expect(m.answer, what).toEqual([]);
        expect(m.authority.filter((r) => r.type === RRType.NS).map((r) => r.owner), what).toEqual(['sub.example.']);
      }
    }
  });

  it('NSEC at the cut of an NSEC-signed parent: the parent answers (its NSEC there, or NODATA), never a referral', () => {
    for (const kind of KINDS.filter((k) => k !== 'unsigned' && k !== 'nsec3')) {
      for (const dnssecOk of [false, true]) {
        const what = `${kind} DO=${dnssecOk ? 1 : 0}`;
        const m = ask(kind, 'sub.example', 'NSEC', dnssecOk);
        expect(m.flags & Flag.AA, what).toBe(Flag.AA);
        expect(m.rcode, what).toBe(Rcode.NOERROR);
        expect(m.authority.some((r) => r.type === RRType.NS), what).toBe(false);
        // The parent's NSEC at the cut (stored, or made for the chain / compact denial): answered as data; without
        // DO a live-signed zone shows no NSEC: NODATA with the SOA.
        const hasNsec = kind === 'presigned' || (dnssecOk && (kind === 'nsec' || kind === 'compact'));
        expect(m.answer.filter((r) => r.type === RRType.NSEC).map((r) => r.owner), what).toEqual(hasNsec ? ['sub.example.'] : []);
        if (!hasNsec) expect(m.authority.map((r) => r.type).filter((t) => t !== RRType.RRSIG && t !== RRType.NSEC3), what).toEqual([RRType.SOA]);
      }
    }
  });
});

describe('parent and child both served', () => {
  it('child names come from the child; DS at the cut from the parent (RFC 4035 §3.1.4.1); no referral, no stray DS', async () => {
    const parentOrigin = Name.parse('example.');
    const childOrigin = Name.parse('sub.example.');
    const parent = buildSnapshot(parentOrigin, parseZoneText(ZONE, 'p.zone', { origin: parentOrigin, zonesDir: dir }).records).snapshot!;
    const childText = `$TTL 300\n@ SOA ns.sub.example. host 1 7200 3600 1209600 600\n@ NS ns\nns A 192.0.2.8\nwww A 192.0.2.80\n`;
    const child = buildSnapshot(childOrigin, parseZoneText(childText, 'c.zone', { origin: childOrigin, zonesDir: dir }).records).snapshot!;
    const store = new ZoneStore();
    store.publish(new ZoneSet(new Map([[parentOrigin.key, { snapshot: parent, expired: false }], [childOrigin.key, { snapshot: child, expired: false }]]), 1));
    const engine = new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 0 });
    const q = (name: string, type: string, dnssecOk: boolean): ParsedMessage => parseMessage(engine.handle(buildQuery({ name, type, id: 9, edns: { udpSize: 4096, do: dnssecOk } }), CTX) as Uint8Array);
    for (const dnssecOk of [false, true]) {
      const www = q('www.sub.example', 'A', dnssecOk);
      expect(www.flags & Flag.AA).toBe(Flag.AA);
      expect(shape(www.answer)).toEqual(['www.sub.example. 1']);
      expect(shape(www.authority)).toEqual([]);
      const ds = q('sub.example', 'DS', dnssecOk);
      expect(shape(ds.answer)).toEqual(['sub.example. 43']);
      const ns = q('sub.example', 'NS', dnssecOk);
      expect(ns.flags & Flag.AA).toBe(Flag.AA);
      expect(shape(ns.answer)).toEqual(['sub.example. 2']);
      expect(ns.authority.some((r) => r.type === RRType.DS)).toBe(false);
    }
  });
});

describe('additional data carries its RRSIGs for DO=1 (RFC 4035 §3.1.1)', () => {
  it('apex NS: ns1 A and its RRSIG, stored or made; none for DO=0 or an unsigned zone', () => {
    for (const kind of KINDS) {
      for (const dnssecOk of [false, true]) {
        const what = `${kind} DO=${dnssecOk ? 1 : 0}`;
        const m = ask(kind, 'example', 'NS', dnssecOk);
        expect(shape(m.additional), what).toEqual(dnssecOk && kind !== 'unsigned' ? ['ns1.example. 1', 'ns1.example. RRSIG/1'] : ['ns1.example. 1']);
      }
    }
  });
});
